package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class SizesTest {

  @ParameterizedTest
  @CsvSource({
    "4096, 4096",
    "0, 0",
    "12b, 12",
    "4k, 4096",
    "4KB, 4096",
    "4KiB, 4096",
    "64m, 67108864",
    "64 MiB, 67108864",
    "256MiB, 268435456",
    "1g, 1073741824",
    "1GiB, 1073741824",
    "1gb, 1073741824",
    "2t, 2199023255552",
  })
  void parsesSizes(String text, long bytes) {
    assertThat(Sizes.parse(text)).isEqualTo(bytes);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "m", "-1", "1.5g", "12 parsecs", "1x", "0x10", "9999999999999t"})
  void refusesBadSizesNamingTheInput(String text) {
    assertThatThrownBy(() -> Sizes.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'");
  }

  @Test
  void badSizesGiveAnExampleOfGoodOnes() {
    assertThatThrownBy(() -> Sizes.parse("lots")).hasMessageContaining("e.g. 4096, 64m, 256MiB");
  }

  @Test
  void theConvertersReportTypeConversionErrors() {
    assertThat(new Sizes.Converter().convert("1k")).isEqualTo(1024L);
    assertThatThrownBy(() -> new Sizes.Converter().convert("x"))
        .isInstanceOf(CommandLine.TypeConversionException.class);
    assertThat(new Sizes.IntConverter().convert("4MiB")).isEqualTo(4 << 20);
    assertThatThrownBy(() -> new Sizes.IntConverter().convert("2g"))
        .isInstanceOf(CommandLine.TypeConversionException.class)
        .hasMessageContaining("too large");
  }

  @Test
  void formatsSizesForPeople() {
    assertThat(Sizes.format(0)).isEqualTo("0 B");
    assertThat(Sizes.format(1023)).isEqualTo("1023 B");
    assertThat(Sizes.format(1536)).isEqualTo("1.5 KiB");
    assertThat(Sizes.format(256L << 20)).isEqualTo("256.0 MiB");
    assertThat(Sizes.format(1L << 30)).isEqualTo("1.0 GiB");
  }

  @ParameterizedTest
  @CsvSource({
    "2s, PT2S",
    "500ms, PT0.5S",
    "1m, PT1M",
    "1min, PT1M",
    "3h, PT3H",
    "250us, PT0.00025S",
    "10ns, PT0.00000001S",
    "2 s, PT2S",
    "0ms, PT0S"
  })
  void parsesDurations(String text, String iso) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.parse(iso));
  }

  @ParameterizedTest
  @ValueSource(strings = {"2", "", "s", "-1s", "1.5s", "2 days", "PT2S"})
  void refusesBadDurationsNamingTheInput(String text) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'" + text + "'");
  }

  @Test
  void hostPortsParse() {
    assertThat(HostPort.parse("127.0.0.1:50051", false))
        .isEqualTo(new HostPort("127.0.0.1", 50051));
    assertThat(HostPort.parse("[::1]:7", false)).isEqualTo(new HostPort("::1", 7));
    assertThat(HostPort.parse("[::1]:7", false).toString()).isEqualTo("[::1]:7");
    assertThat(HostPort.parse("localhost:0", true).port()).isZero();
    assertThatThrownBy(() -> HostPort.parse("localhost:0", false)).hasMessageContaining("1..65535");
    assertThatThrownBy(() -> HostPort.parse("localhost", false)).hasMessageContaining("HOST:PORT");
    assertThatThrownBy(() -> HostPort.parse("h:70000", true)).hasMessageContaining("0..65535");
    assertThatThrownBy(() -> HostPort.parse("::1:5", true)).hasMessageContaining("brackets");
    assertThatThrownBy(() -> HostPort.parse("h:port", true)).hasMessageContaining("number");
  }
}
