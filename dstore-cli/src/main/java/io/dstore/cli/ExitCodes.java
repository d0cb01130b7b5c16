package io.dstore.cli;

import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;

/**
 * The one place where a dstore {@link ErrorCode} becomes an exit code of the {@code dstore}
 * command, and a one-line message for people (the REPL prints the same messages).
 *
 * <p>Exit codes (as README.md lists them): 0 success; 1 not found or already exists; 2 usage errors
 * and invalid arguments (an oversize key, a bad range, bytes failing their SHA-256 check, an
 * address or file that cannot be used); 3 Global unreachable, or too busy to serve the call
 * (retrying later may work), TLS handshakes that fail included; 4 authentication or permission
 * refused: a missing or wrong token ({@code Authentication failed: ...}); 5 Global is out of disk
 * space and refuses new values ({@code Global is out of space: ...}; deleting values frees it); 6
 * an internal error in Global or in this command ({@code Internal error: ...}; a bug or an
 * unexpected failure, see Global's log); 8 a put or delete whose outcome is unknown ({@code Outcome
 * unknown: ...}; it was cut off after it was sent, check with {@code stat}). An internal error is
 * never reported as "unreachable": Global answered.
 */
final class ExitCodes {
  static final int OK = 0;
  static final int NOT_FOUND_OR_EXISTS = 1;
  static final int USAGE = 2;
  static final int UNAVAILABLE = 3;
  static final int DENIED = 4;
  static final int NO_SPACE = 5;
  static final int INTERNAL = 6;
  static final int OUTCOME_UNKNOWN = 8;

  /** The exit-code section of {@code --help}; constants so annotations can use them. */
  static final String HEADING = "%nExit codes:%n";

  static final String LIST_OK = "0:success";
  static final String LIST_1 = "1:the key was not found, or already exists";
  static final String LIST_2 = "2:usage error or invalid argument (e.g. an oversize key)";
  static final String LIST_3 =
      "3:Global unreachable (TLS handshake failures included), or too busy to serve now";
  static final String LIST_4 =
      "4:authentication failed (missing or wrong token) or permission refused";
  static final String LIST_5 =
      "5:Global is out of disk space (below its --min-free-disk) and refuses new values";
  static final String LIST_6 = "6:internal error (a bug or unexpected failure; see Global's log)";
  static final String LIST_8 =
      "8:the write's outcome is unknown (cut off after it was sent); check with stat";

  private ExitCodes() {}

  /** The exit code for a failure with {@code code}. */
  static int of(ErrorCode code) {
    return switch (code) {
      case NOT_FOUND, ALREADY_EXISTS -> NOT_FOUND_OR_EXISTS;
      case INVALID_ARGUMENT, TOO_LARGE, INTEGRITY -> USAGE;
      case UNAVAILABLE, RESOURCE_EXHAUSTED -> UNAVAILABLE;
      case UNAUTHENTICATED, PERMISSION_DENIED -> DENIED;
      case NO_SPACE -> NO_SPACE;
      case INTERNAL -> INTERNAL;
      case OUTCOME_UNKNOWN -> OUTCOME_UNKNOWN;
    };
  }

  /**
   * A one-line message for {@code e}, e.g. {@code Global unreachable: ...}. With {@code key}, "not
   * found" and "already exists" name the key.
   */
  static String describe(DstoreException e, String key) {
    String detail = detail(e);
    return switch (e.code()) {
      case NOT_FOUND -> key != null ? "Key '" + Text.shorten(key) + "' not found" : "Not found";
      case ALREADY_EXISTS ->
          key != null ? "Key '" + Text.shorten(key) + "' already exists" : "Already exists";
      case INVALID_ARGUMENT -> "Invalid argument: " + detail;
      case TOO_LARGE -> "Too large: " + detail;
      case INTEGRITY -> "Integrity check failed: " + detail;
      case UNAVAILABLE -> "Global unreachable: " + detail;
      case RESOURCE_EXHAUSTED -> "Global busy: " + detail;
      case INTERNAL -> "Internal error: " + detail;
      case NO_SPACE -> "Global is out of space: " + detail;
      case OUTCOME_UNKNOWN -> "Outcome unknown: " + detail;
      case UNAUTHENTICATED -> "Authentication failed: " + detail;
      case PERMISSION_DENIED -> "Permission denied: " + detail;
    };
  }

  /**
   * The exception's message, with the root cause's appended when it says more (gRPC often reports a
   * refused connection as "io exception", the cause naming the address).
   */
  private static String detail(Throwable e) {
    String message = e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String rootMessage = root.getMessage();
    if (rootMessage != null) {
      // gRPC prefixes its status code ("DEADLINE_EXCEEDED: ..."): compare what follows
      rootMessage = rootMessage.replaceFirst("^[A-Z_]+: ", "");
    }
    if (!root.equals(e)
        && rootMessage != null
        && !message.contains(rootMessage)
        && !rootMessage.contains(message)) {
      message = message + " (" + rootMessage + ")";
    }
    return Text.oneLine(message);
  }
}
