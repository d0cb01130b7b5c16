package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ReplParserTest {

  private static ReplCommand parse(String line) {
    return ReplParser.parse(line).orElseThrow();
  }

  @ParameterizedTest
  @ValueSource(strings = {"SET", "PUT", "INSERT", "IN", "I", "set", "put", "insert", "in", "i"})
  void everySetAliasCreates(String verb) {
    assertThat(parse(verb + " k v")).isEqualTo(new ReplCommand.Set("k", "v"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"GET", "SELECT", "OUTPUT", "OUT", "O", "get", "select", "output", "o"})
  void everyGetAliasReads(String verb) {
    assertThat(parse(verb + " k")).isEqualTo(new ReplCommand.Get("k"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"DEL", "DELETE", "REM", "REMOVE", "RM", "D", "del", "delete", "rm", "d"})
  void everyDelAliasDeletes(String verb) {
    assertThat(parse(verb + " k")).isEqualTo(new ReplCommand.Del("k"));
  }

  @Test
  void commandsAreCaseInsensitive() {
    assertThat(parse("Set k v")).isEqualTo(new ReplCommand.Set("k", "v"));
    assertThat(parse("sEt k v")).isEqualTo(new ReplCommand.Set("k", "v"));
    assertThat(parse("iNsErT k v")).isEqualTo(new ReplCommand.Set("k", "v"));
    assertThat(parse("gEt k")).isEqualTo(new ReplCommand.Get("k"));
    assertThat(parse("Output k")).isEqualTo(new ReplCommand.Get("k"));
    assertThat(parse("ReMoVe k")).isEqualTo(new ReplCommand.Del("k"));
    assertThat(parse(".VeRsIoN")).isEqualTo(new ReplCommand.ShowVersion());
  }

  @Test
  void keysKeepTheirCase() {
    assertThat(parse("GET MyKey")).isEqualTo(new ReplCommand.Get("MyKey"));
  }

  @Test
  void theValueIsTheRestOfTheLineWithItsSpaces() {
    assertThat(parse("SET k hello world")).isEqualTo(new ReplCommand.Set("k", "hello world"));
    assertThat(parse("SET k  two leading")).isEqualTo(new ReplCommand.Set("k", " two leading"));
    assertThat(parse("SET k trailing  ")).isEqualTo(new ReplCommand.Set("k", "trailing  "));
    assertThat(parse("SET k a\tb")).isEqualTo(new ReplCommand.Set("k", "a\tb"));
  }

  @Test
  void onlyTheSeparatorAfterTheKeyIsConsumed() {
    assertThat(parse("  SET   k v")).isEqualTo(new ReplCommand.Set("k", "v"));
    assertThat(parse("SET\tk\tv")).isEqualTo(new ReplCommand.Set("k", "v"));
    assertThat(parse("SET k ")).isEqualTo(new ReplCommand.Set("k", ""));
  }

  @Test
  void keysAndValuesAreUnicode() {
    assertThat(parse("SET clé valeur été")).isEqualTo(new ReplCommand.Set("clé", "valeur été"));
    assertThat(parse("get 鍵")).isEqualTo(new ReplCommand.Get("鍵"));
  }

  @Test
  void blankLinesAreNothing() {
    assertThat(ReplParser.parse("")).isEmpty();
    assertThat(ReplParser.parse("   ")).isEmpty();
    assertThat(ReplParser.parse(" \t ")).isEmpty();
  }

  @Test
  void missingArgumentsShowTheUsage() {
    assertThat(parse("SET")).isEqualTo(new ReplCommand.Invalid("Usage: SET KEY VALUE"));
    assertThat(parse("set k")).isEqualTo(new ReplCommand.Invalid("Usage: SET KEY VALUE"));
    assertThat(parse("put   ")).isEqualTo(new ReplCommand.Invalid("Usage: PUT KEY VALUE"));
    assertThat(parse("GET")).isEqualTo(new ReplCommand.Invalid("Usage: GET KEY"));
    assertThat(parse("o  ")).isEqualTo(new ReplCommand.Invalid("Usage: O KEY"));
    assertThat(parse("DEL")).isEqualTo(new ReplCommand.Invalid("Usage: DEL KEY"));
  }

  @Test
  void extraArgumentsShowTheUsage() {
    assertThat(parse("GET a b")).isEqualTo(new ReplCommand.Invalid("Usage: GET KEY"));
    assertThat(parse("rm a b")).isEqualTo(new ReplCommand.Invalid("Usage: RM KEY"));
    assertThat(parse("GET a   ")).isEqualTo(new ReplCommand.Get("a"));
    assertThat(parse(".stats now"))
        .isEqualTo(new ReplCommand.Invalid("Usage: .stats (takes no arguments)"));
  }

  @Test
  void dotCommands() {
    assertThat(parse(".exit")).isEqualTo(new ReplCommand.Exit());
    assertThat(parse(".EXIT")).isEqualTo(new ReplCommand.Exit());
    assertThat(parse(".version")).isEqualTo(new ReplCommand.ShowVersion());
    assertThat(parse(".help")).isEqualTo(new ReplCommand.Help());
    assertThat(parse(" .stats ")).isEqualTo(new ReplCommand.Stats());
  }

  @Test
  void unknownCommandsAreNamed() {
    assertThat(parse("FOO bar"))
        .isEqualTo(new ReplCommand.Invalid("Unknown command 'FOO': type .help for the list"));
    assertThat(parse(".quit"))
        .isEqualTo(new ReplCommand.Invalid("Unknown command '.quit': type .help for the list"));
    assertThat(parse("SETk v"))
        .isEqualTo(new ReplCommand.Invalid("Unknown command 'SETk': type .help for the list"));
  }

  @Test
  void keysLongerThan1024BytesAreRefused() {
    String ok = "k".repeat(1024);
    assertThat(parse("SET " + ok + " v")).isEqualTo(new ReplCommand.Set(ok, "v"));
    String tooLong = "é".repeat(513); // 1,026 bytes in UTF-8
    assertThat(parse("GET " + tooLong))
        .isEqualTo(
            new ReplCommand.Invalid("Invalid key: a key is 1 to 1024 bytes, this one is 1026"));
    assertThat(parse("SET " + tooLong + " v")).isInstanceOf(ReplCommand.Invalid.class);
    assertThat(parse("DEL " + tooLong)).isInstanceOf(ReplCommand.Invalid.class);
  }

  @Test
  void emptyKeysAreRefused() {
    assertThat(ReplParser.checkKey("")).contains("empty");
    assertThat(ReplParser.checkKey("k")).isNull();
  }

  @Test
  void helpInPipeModeIsOneLine() {
    assertThat(ReplCommand.Help.LINE).doesNotContain("\n");
    assertThat(new ReplCommand.Help().run(new ReplSession(null, false)))
        .isEqualTo(ReplCommand.Help.LINE);
    assertThat(new ReplCommand.Help().run(new ReplSession(null, true))).contains("\n");
  }
}
