package io.dstore.server.internal;

import com.google.protobuf.UnsafeByteOperations;
import io.dstore.proto.GetChunk;
import io.dstore.proto.ValueInfo;
import io.dstore.server.Storage;
import io.dstore.wire.ByteRange;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.grpc.stub.ServerCallStreamObserver;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Sends one value (or range) as a stream of chunks, only as fast as the client takes them: it sends
 * while the transport is ready and resumes from the on-ready callback, so a slow reader costs one
 * chunk of memory, not the whole value. gRPC runs the callbacks of one call one at a time, so no
 * locking is needed but for the idle timer. The reader is closed when the stream ends or is
 * cancelled.
 *
 * <p>A client that stops reading (the stream stays not ready) for the {@link IdleTimeout} is cut
 * off (DEADLINE_EXCEEDED) and its reader closed. The timer fires on another thread, so the entry
 * points are synchronized on this streamer.
 */
final class GetStreamer {
  private final ServerCallStreamObserver<GetChunk> observer;
  private final Storage.Reader reader;
  private final ValueInfo info;
  private final boolean deleting;
  private final int chunkSize;
  private final long end;
  private final IdleTimeout idleTimeout;
  private IdleTimeout.Watch idle;
  private long position;
  private boolean first = true;
  private boolean finished;

  GetStreamer(
      ServerCallStreamObserver<GetChunk> observer,
      Storage.Reader reader,
      ValueInfo info,
      boolean deleting,
      ByteRange.Span range,
      int chunkSize,
      IdleTimeout idleTimeout) {
    this.observer = observer;
    this.reader = reader;
    this.info = info;
    this.deleting = deleting;
    this.chunkSize = chunkSize;
    this.position = range.offset();
    this.end = range.end();
    this.idleTimeout = idleTimeout;
  }

  synchronized void start() {
    idle = idleTimeout.watch(this::onIdle);
    observer.setOnCancelHandler(this::finish);
    observer.setOnReadyHandler(this::pump);
    pump();
  }

  private synchronized void pump() {
    try {
      while (!finished && observer.isReady()) {
        int n = (int) Math.min(chunkSize, end - position);
        GetChunk.Builder chunk = GetChunk.newBuilder();
        if (first) {
          chunk.setInfo(info).setDeleting(deleting);
          first = false;
        }
        if (n > 0) {
          byte[] buf = new byte[n];
          ByteBuffer dst = ByteBuffer.wrap(buf);
          while (dst.hasRemaining()) {
            if (reader.read(position + dst.position(), dst) <= 0) {
              throw new IOException("value ended early at byte " + (position + dst.position()));
            }
          }
          chunk.setData(UnsafeByteOperations.unsafeWrap(buf));
          position += n;
        }
        observer.onNext(chunk.build());
        idle.touch();
        if (position >= end) {
          finish();
          observer.onCompleted();
        }
      }
    } catch (IOException | RuntimeException e) {
      if (!finished) {
        finish();
        observer.onError(GrpcErrors.toStatus(e));
      }
    }
  }

  private synchronized void finish() {
    if (!finished) {
      finished = true;
      idle.stop();
      reader.close();
    }
  }

  /** The client read nothing for the idle timeout: stop, free the reader, say why. */
  private synchronized void onIdle() {
    if (finished) {
      return;
    }
    long sent = position;
    finish();
    try {
      observer.onError(
          GrpcErrors.status(
              ErrorCode.UNAVAILABLE,
              "download cut off at byte "
                  + sent
                  + ": the client read nothing for "
                  + idleTimeout.timeout().toMillis()
                  + " ms; "
                  + idleTimeout.describe()));
    } catch (RuntimeException e) {
      // The call ended meanwhile.
    }
  }
}
