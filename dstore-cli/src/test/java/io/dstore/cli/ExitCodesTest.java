package io.dstore.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import java.io.IOException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

@Timeout(value = 30, unit = TimeUnit.SECONDS)
class ExitCodesTest {

  @Test
  void mapsEveryErrorCodeAsDesignSays() {
    assertThat(ExitCodes.of(ErrorCode.NOT_FOUND)).isEqualTo(1);
    assertThat(ExitCodes.of(ErrorCode.ALREADY_EXISTS)).isEqualTo(1);
    assertThat(ExitCodes.of(ErrorCode.INVALID_ARGUMENT)).isEqualTo(2);
    assertThat(ExitCodes.of(ErrorCode.TOO_LARGE)).isEqualTo(2);
    assertThat(ExitCodes.of(ErrorCode.INTEGRITY)).isEqualTo(2);
    assertThat(ExitCodes.of(ErrorCode.UNAVAILABLE)).isEqualTo(3);
    assertThat(ExitCodes.of(ErrorCode.RESOURCE_EXHAUSTED)).isEqualTo(3);
    assertThat(ExitCodes.of(ErrorCode.UNAUTHENTICATED)).isEqualTo(4);
    assertThat(ExitCodes.of(ErrorCode.PERMISSION_DENIED)).isEqualTo(4);
    assertThat(ExitCodes.of(ErrorCode.NO_SPACE)).isEqualTo(5);
    // Global answered: an internal error is not "unreachable"
    assertThat(ExitCodes.of(ErrorCode.INTERNAL)).isEqualTo(6);
  }

  @Test
  void outOfSpaceSaysSoAndExits5() {
    DstoreException e =
        new DstoreException(
            ErrorCode.NO_SPACE, "1.0 GiB free, below the watermark of 2.0 GiB (--min-free-disk)");
    assertThat(ExitCodes.describe(e, "k"))
        .isEqualTo(
            "Global is out of space: 1.0 GiB free, below the watermark of 2.0 GiB"
                + " (--min-free-disk)");
    assertThat(ExitCodes.of(e.code())).isEqualTo(5);
  }

  @Test
  void anInternalErrorIsNotCalledUnreachable() {
    DstoreException e = new DstoreException(ErrorCode.INTERNAL, "internal error: boom");
    assertThat(ExitCodes.describe(e, "k")).startsWith("Internal error: ");
  }

  @ParameterizedTest
  @EnumSource(ErrorCode.class)
  void everyMessageIsOneLine(ErrorCode code) {
    String message = ExitCodes.describe(new DstoreException(code, "first\nsecond"), "k\n2");
    assertThat(message).doesNotContain("\n").isNotBlank();
  }

  @Test
  void unreachableSaysSoAndNamesTheRootCause() {
    DstoreException e =
        new DstoreException(
            ErrorCode.UNAVAILABLE,
            "cannot reach Global at 127.0.0.1:1: io exception",
            new RuntimeException("wrapper", new IOException("Connection refused")));
    assertThat(ExitCodes.describe(e, "k"))
        .isEqualTo(
            "Global unreachable: cannot reach Global at 127.0.0.1:1: io exception"
                + " (Connection refused)");
  }

  @Test
  void aRootCauseThatRepeatsTheMessageIsNotRepeated() {
    DstoreException e =
        new DstoreException(
            ErrorCode.TOO_LARGE,
            "key is 2000 bytes",
            new RuntimeException("INVALID_ARGUMENT: key is 2000 bytes"));
    assertThat(ExitCodes.describe(e, null)).isEqualTo("Too large: key is 2000 bytes");
  }

  @Test
  void aGrpcStatusPrefixDoesNotMakeTheRootCauseLookNew() {
    DstoreException e =
        new DstoreException(
            ErrorCode.UNAVAILABLE,
            "cannot reach Global at h:1: upload cut off",
            new RuntimeException("DEADLINE_EXCEEDED: upload cut off"));
    assertThat(ExitCodes.describe(e, null))
        .isEqualTo("Global unreachable: cannot reach Global at h:1: upload cut off");
  }

  @Test
  void aWrongTokenSaysAuthenticationFailedAndExits4() {
    DstoreException e =
        new DstoreException(
            ErrorCode.UNAUTHENTICATED, "missing or wrong token: every call needs it");
    assertThat(ExitCodes.describe(e, "k"))
        .isEqualTo("Authentication failed: missing or wrong token: every call needs it");
    assertThat(ExitCodes.of(e.code())).isEqualTo(4);
    DstoreException denied = new DstoreException(ErrorCode.PERMISSION_DENIED, "not yours");
    assertThat(ExitCodes.describe(denied, "k")).isEqualTo("Permission denied: not yours");
    assertThat(ExitCodes.of(denied.code())).isEqualTo(4);
  }

  @Test
  void notFoundAndExistsNameTheKey() {
    assertThat(ExitCodes.describe(new DstoreException(ErrorCode.NOT_FOUND, "key not found"), "k"))
        .isEqualTo("Key 'k' not found");
    assertThat(ExitCodes.describe(new DstoreException(ErrorCode.ALREADY_EXISTS, "exists"), "a b"))
        .isEqualTo("Key 'a b' already exists");
  }
}
