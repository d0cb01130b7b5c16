package io.dstore.cli;

import io.dstore.Entry;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.nio.charset.StandardCharsets;

/**
 * One parsed line of the REPL (see {@link ReplParser}) and how it runs. {@link #run} returns the
 * text to print: one line when the session is not interactive, so that scripts read exactly one
 * result line per command. The messages are the contract that README.md lists, word for word.
 */
sealed interface ReplCommand {
  String NOT_FOUND = "Key-Value mapping doesn't exist";

  /** Runs the command in {@code session}; returns what to print, or null for nothing. */
  String run(ReplSession session);

  /** {@code SET KEY VALUE} and its aliases: create KEY. */
  record Set(String key, String value) implements ReplCommand {
    @Override
    public String run(ReplSession session) {
      byte[] k = key.getBytes(StandardCharsets.UTF_8);
      boolean cachedHere = session.dstore().isCached(k);
      try {
        session.dstore().put(k, value.getBytes(StandardCharsets.UTF_8));
        return "Database updated";
      } catch (DstoreException e) {
        if (e.code() == ErrorCode.ALREADY_EXISTS) {
          // Not cached here before: the put brought Global's existing value into this Local.
          return cachedHere ? "Key occupied!" : "(Updated local) Key occupied!";
        }
        return ExitCodes.describe(e, key);
      }
    }
  }

  /** {@code GET KEY} and its aliases: show the value, saying where it came from. */
  record Get(String key) implements ReplCommand {
    @Override
    public String run(ReplSession session) {
      try {
        Entry entry = session.dstore().getEntry(key.getBytes(StandardCharsets.UTF_8));
        String mapping = Text.oneLine(key) + " -> " + Text.printable(entry.value());
        return entry.fromCache()
            ? "db: " + mapping
            : "global: " + mapping + "     (Updating Local)";
      } catch (DstoreException e) {
        return e.code() == ErrorCode.NOT_FOUND ? NOT_FOUND : ExitCodes.describe(e, key);
      }
    }
  }

  /** {@code DEL KEY} and its aliases: delete KEY from Global and every Local. */
  record Del(String key) implements ReplCommand {
    @Override
    public String run(ReplSession session) {
      try {
        session.dstore().delete(key.getBytes(StandardCharsets.UTF_8));
        return "Global mapping removed!";
      } catch (DstoreException e) {
        return e.code() == ErrorCode.NOT_FOUND ? NOT_FOUND : ExitCodes.describe(e, key);
      }
    }
  }

  /** {@code .stats}: cache and connection figures. */
  record Stats() implements ReplCommand {
    @Override
    public String run(ReplSession session) {
      return session.interactive()
          ? StatsFormat.table(session.dstore().stats())
          : StatsFormat.oneLine(session.dstore().stats());
    }
  }

  /** {@code .version}. */
  record ShowVersion() implements ReplCommand {
    @Override
    public String run(ReplSession session) {
      return Version.text();
    }
  }

  /** {@code .help}: the command list. */
  record Help() implements ReplCommand {
    static final String TABLE =
        """
        SET KEY VALUE   create KEY with VALUE, the rest of the line (also PUT, INSERT, IN, I)
        GET KEY         show the value of KEY and where it came from (also SELECT, OUTPUT, OUT, O)
        DEL KEY         delete KEY from Global and every Local (also DELETE, REM, REMOVE, RM, D)
        .stats          cache and connection figures
        .version        the dstore version
        .help           this list
        .exit           leave (so does end of input, or Ctrl-D)
        Commands are case-insensitive; keys are UTF-8 text of 1 to 1024 bytes.""";

    static final String LINE =
        "Commands: SET KEY VALUE (also PUT, INSERT, IN, I); GET KEY (also SELECT, OUTPUT, OUT, O);"
            + " DEL KEY (also DELETE, REM, REMOVE, RM, D); .stats; .version; .help; .exit";

    @Override
    public String run(ReplSession session) {
      return session.interactive() ? TABLE : LINE;
    }
  }

  /** {@code .exit}: ends the session; prints nothing. */
  record Exit() implements ReplCommand {
    @Override
    public String run(ReplSession session) {
      return null;
    }
  }

  /** A line that is no valid command: prints {@code message}, one line naming the problem. */
  record Invalid(String message) implements ReplCommand {
    @Override
    public String run(ReplSession session) {
      return message;
    }
  }
}
