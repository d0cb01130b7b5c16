package io.dstore.server.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import io.dstore.proto.GlobalGrpc;
import io.dstore.wire.GrpcErrors;
import io.grpc.Channel;
import io.grpc.ClientInterceptors;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** Helpers shared by the security and limit tests. */
final class Stubs {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private Stubs() {}

  static ByteString bytes(String s) {
    return ByteString.copyFrom(s, StandardCharsets.UTF_8);
  }

  /** {@code channel} sending {@code authorization} with this value on every call (null: none). */
  static Channel withAuthorization(Channel channel, String value) {
    if (value == null) {
      return channel;
    }
    Metadata headers = new Metadata();
    headers.put(AUTHORIZATION, value);
    return ClientInterceptors.intercept(
        channel, MetadataUtils.newAttachHeadersInterceptor(headers));
  }

  static GlobalGrpc.GlobalBlockingStub blocking(Channel channel) {
    return GlobalGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  /** Asserts the call fails with this status and dstore code, returning the description. */
  static String assertStatus(ThrowingCallable call, Status.Code code, String dstoreCode) {
    String[] description = new String[1];
    assertThatThrownBy(call)
        .isInstanceOfSatisfying(
            StatusRuntimeException.class,
            e -> {
              assertThat(e.getStatus().getCode()).isEqualTo(code);
              assertThat(e.getTrailers()).isNotNull();
              assertThat(String.valueOf(GrpcErrors.codeOf(e))).isEqualTo(dstoreCode);
              description[0] = e.getStatus().getDescription();
            });
    return description[0];
  }
}
