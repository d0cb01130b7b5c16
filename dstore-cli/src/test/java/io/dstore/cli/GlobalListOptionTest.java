package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code --global} takes one address or a cluster's gateways, {@code H1:P1,H2:P2}: a list is parsed
 * in order, a bad list is a usage error naming what is wrong, and a one-shot command given a dead
 * gateway first reaches the live one after it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GlobalListOptionTest {

  @Test
  void aListOfGatewaysIsParsedInOrder() {
    ClientOptions.Globals globals = ClientOptions.Globals.parse("a:1, b:2,[::1]:3");
    assertThat(globals.addresses())
        .containsExactly(new HostPort("a", 1), new HostPort("b", 2), new HostPort("::1", 3));
    assertThat(globals).hasToString("a:1,b:2,[::1]:3");
  }

  @Test
  void oneAddressIsAListOfOne() {
    assertThat(ClientOptions.Globals.parse("127.0.0.1:50051").addresses())
        .containsExactly(new HostPort("127.0.0.1", 50051));
  }

  @ParameterizedTest(name = "''{0}'' is refused: {1}")
  @CsvSource(
      delimiter = '|',
      value = {
        "a:1,,b:2 | address 2 of 'a:1,,b:2' is empty",
        "a:1,     | address 2 of 'a:1,' is empty",
        ",a:1     | address 1 of ',a:1' is empty",
        "a:1,b:0  | port must be 1..65535, got 0",
        "a:1,b:x  | port must be a number",
        "a:1,b    | address must be HOST:PORT",
        "a:1,a:1  | a:1 is given twice"
      })
  void aBadListIsRefusedNamingTheProblem(String list, String problem) {
    assertThatThrownBy(() -> ClientOptions.Globals.parse(list.strip()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(problem.strip());
  }

  @Test
  void aBadListOnTheCommandLineIsAUsageError() {
    Cli.Result r = Cli.run("stat", "k", "--global", "127.0.0.1:1,,127.0.0.1:2");
    assertThat(r.exit()).as(r.toString()).isEqualTo(ExitCodes.USAGE);
    assertThat(r.err()).contains("--global").contains("is empty");

    Cli.Result twice = Cli.run("local", "--global", "127.0.0.1:7,127.0.0.1:7");
    assertThat(twice.exit()).as(twice.toString()).isEqualTo(ExitCodes.USAGE);
    assertThat(twice.err()).contains("127.0.0.1:7 is given twice");
  }

  @Test
  void aOneShotCommandReachesTheLiveGatewayAfterADeadOne() {
    try (TestGlobal global = TestGlobal.start()) {
      String list = "127.0.0.1:" + TestGlobal.deadPort() + "," + global.address();
      Cli.Result put = Cli.run("put", "listed", "v", "--global", list);
      assertThat(put.exit()).as(put.toString()).isZero();
      Cli.Result get = Cli.run("get", "listed", "--global", list);
      assertThat(get.exit()).as(get.toString()).isZero();
      assertThat(get.out()).isEqualTo("v");
    }
  }

  @Test
  void anUnknownOutcomeIsReportedAsSuchWithExitCode8() {
    DstoreException e =
        new DstoreException(
            ErrorCode.OUTCOME_UNKNOWN, "the put of 'k' may or may not have happened: cut off");
    assertThat(ExitCodes.describe(e, "k"))
        .isEqualTo("Outcome unknown: the put of 'k' may or may not have happened: cut off");
    assertThat(ExitCodes.of(e.code())).isEqualTo(8);
  }
}
