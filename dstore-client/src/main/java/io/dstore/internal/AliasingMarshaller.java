package io.dstore.internal;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import io.dstore.proto.GlobalGrpc;
import io.dstore.proto.PipelineRequest;
import io.dstore.proto.PipelineResponse;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.IOException;
import java.io.InputStream;

/**
 * Parses a {@link PipelineResponse} so that its value bytes are one copy away from the wire, not
 * two: the message is read once into an array of its own, and its {@code bytes} fields alias that
 * array instead of being copied out of a scratch buffer as gRPC's default marshaller does.
 *
 * <p>The array is private to the parsed message, never reused or written after parsing, so the
 * aliasing is safe; the caller copies the value out once (into the array it caches or returns).
 * Streams whose length is not known fall back to the default marshaller. Thread-safe (stateless).
 */
final class AliasingMarshaller implements MethodDescriptor.Marshaller<PipelineResponse> {
  private static final MethodDescriptor.Marshaller<PipelineResponse> DEFAULT =
      GlobalGrpc.getPipelineMethod().getResponseMarshaller();

  /** The Pipeline method with this marshaller for its responses. */
  static final MethodDescriptor<PipelineRequest, PipelineResponse> PIPELINE =
      GlobalGrpc.getPipelineMethod().toBuilder(
              GlobalGrpc.getPipelineMethod().getRequestMarshaller(), new AliasingMarshaller())
          .build();

  private AliasingMarshaller() {}

  @Override
  public InputStream stream(PipelineResponse value) {
    return DEFAULT.stream(value);
  }

  @Override
  public PipelineResponse parse(InputStream stream) {
    if (!(stream instanceof KnownLength)) {
      return DEFAULT.parse(stream);
    }
    try {
      int size = stream.available();
      byte[] bytes = new byte[size];
      int read = 0;
      while (read < size) {
        int n = stream.read(bytes, read, size - read);
        if (n < 0) {
          throw new IOException("the message ended after " + read + " of " + size + " bytes");
        }
        read += n;
      }
      if (stream.read() != -1) {
        throw new IOException("the message is longer than the " + size + " bytes announced");
      }
      CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
      in.enableAliasing(true);
      in.setSizeLimit(Integer.MAX_VALUE);
      PipelineResponse response = PipelineResponse.parser().parseFrom(in);
      in.checkLastTagWas(0);
      return response;
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL
          .withDescription("invalid pipeline response")
          .withCause(e)
          .asRuntimeException();
    } catch (IOException e) {
      throw Status.INTERNAL
          .withDescription("cannot read a pipeline response: " + e.getMessage())
          .withCause(e)
          .asRuntimeException();
    }
  }
}
