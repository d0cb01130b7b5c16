package io.dstore.daemon.internal;

import io.dstore.Dstore;
import io.dstore.ValueInfo;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutResponse;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One streamed upload to a Local daemon, passed on to {@link Dstore#put(byte[], InputStream, long)}
 * through a pipe: gRPC hands chunks in, the Local's upload (on a {@code work} thread) reads them
 * out, and the next chunk is requested from the client only once the last was taken, so the daemon
 * holds one chunk per upload. The client's SHA-256 is checked here before the pipe reports its end:
 * a lying digest, a wrong size, a cancellation or an idle client make the pipe fail instead, which
 * cancels the Local's upload to Global, so nothing is stored.
 *
 * <p>gRPC callbacks come one at a time; they and the worker's answer are serialized on this object.
 */
final class DaemonUpload implements StreamObserver<PutChunk> {
  private static final HexFormat HEX = HexFormat.of();

  private final ServerCallStreamObserver<PutResponse> responses;
  private final Dstore dstore;
  private final Executor work;
  private final Duration idleTimeout;
  private final int chunkLimit;
  private final MessageDigest digest = Sha256.newDigest();
  private final Pipe pipe;

  private boolean started;
  private byte[] key; // null for a content-addressed upload
  private long declaredSize;
  private byte[] headerSha;
  private byte[] trailerSha;
  private String actualSha;
  private long received;
  private boolean answered;

  DaemonUpload(
      ServerCallStreamObserver<PutResponse> responses,
      Dstore dstore,
      Executor work,
      Duration idleTimeout,
      int chunkLimit) {
    this.responses = responses;
    this.dstore = dstore;
    this.work = work;
    this.idleTimeout = idleTimeout;
    this.chunkLimit = chunkLimit;
    this.pipe = new Pipe(idleTimeout, () -> responses.request(1));
    responses.disableAutoRequest();
    responses.request(1);
  }

  @Override
  public synchronized void onNext(PutChunk chunk) {
    if (answered) {
      return;
    }
    try {
      if (!started) {
        start(chunk);
      } else if (chunk.hasHeader()) {
        throw new DstoreException(ErrorCode.INVALID_ARGUMENT, "the upload header was sent twice");
      }
      if (trailerSha != null) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT,
            "bytes arrived after the SHA-256 trailer; it must come last");
      }
      int n = chunk.getData().size();
      if (n > chunkLimit) {
        throw new DstoreException(
            ErrorCode.TOO_LARGE,
            "PutChunk.data is "
                + n
                + " bytes: a stream chunk carries at most "
                + chunkLimit
                + " bytes (the daemon's message limit less 16 KiB)");
      }
      if (n > 0) {
        received += n;
        if (declaredSize >= 0 && received > declaredSize) {
          throw new DstoreException(
              ErrorCode.INVALID_ARGUMENT,
              "upload sent more than the " + declaredSize + " declared bytes");
        }
        Sha256.update(digest, chunk.getData());
        pipe.offer(chunk.getData().asReadOnlyByteBuffer());
      } else {
        responses.request(1);
      }
      if (!chunk.getSha256().isEmpty()) {
        trailerSha = sha(chunk.getSha256().toByteArray(), "last message");
      }
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  private void start(PutChunk chunk) {
    if (!chunk.hasHeader()) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT, "the first message of an upload must carry the header");
    }
    PutHeader header = chunk.getHeader();
    if (header.hasSize() && header.getSize() < 0) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT,
          "PutHeader.size is "
              + header.getSize()
              + ": a declared size is 0 or more bytes; leave size unset when it is unknown");
    }
    declaredSize = header.hasSize() ? header.getSize() : -1; // unset: unknown
    if (header.getContentAddressed()) {
      if (!header.getKey().isEmpty()) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT, "a content-addressed upload must not name a key");
      }
    } else {
      if (header.getKey().isEmpty()) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT, "key is empty: keys are 1 to 1024 bytes");
      }
      key = header.getKey().toByteArray();
    }
    if (!header.getSha256().isEmpty()) {
      headerSha = sha(header.getSha256().toByteArray(), "header");
    }
    started = true;
    work.execute(this::transfer);
  }

  /** Runs on a work thread: the Local's own upload, reading from the pipe. */
  private void transfer() {
    PutResponse response;
    try {
      if (key == null) {
        String k = dstore.putContent(pipe, declaredSize);
        byte[] kb = k.getBytes(StandardCharsets.US_ASCII);
        response = DaemonService.putResponse(kb, dstore.stat(kb), true);
      } else {
        long generation = dstore.put(key, pipe, declaredSize);
        response =
            DaemonService.putResponse(
                key, new ValueInfo(received(), generation, actualSha()), true);
      }
    } catch (RuntimeException e) {
      if (pipe.idle) {
        fail(
            Status.DEADLINE_EXCEEDED
                .withDescription(
                    "upload cut off: nothing arrived for "
                        + idleTimeout.toMillis()
                        + " ms (the daemon's idle stream timeout); nothing was stored")
                .asRuntimeException());
      } else {
        fail(e);
      }
      return;
    }
    answer(response);
  }

  private synchronized long received() {
    return received;
  }

  private synchronized String actualSha() {
    return actualSha;
  }

  @Override
  public synchronized void onError(Throwable t) {
    answered = true; // the client went away: nobody to answer
    pipe.fail(new IOException("the client cancelled the upload"));
  }

  @Override
  public synchronized void onCompleted() {
    if (answered) {
      return;
    }
    try {
      if (!started) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT, "empty upload: the first message must carry the header");
      }
      if (declaredSize >= 0 && received != declaredSize) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT,
            "upload ended after " + received + " of the " + declaredSize + " declared bytes");
      }
      if (headerSha == null && trailerSha == null) {
        throw new DstoreException(
            ErrorCode.INVALID_ARGUMENT,
            "upload carries no SHA-256, in the header or the last message");
      }
      byte[] actual = digest.digest();
      // Sent in both places, both are checked, as on Global.
      for (byte[] claimed : new byte[][] {headerSha, trailerSha}) {
        if (claimed != null && !Arrays.equals(claimed, actual)) {
          throw new DstoreException(
              ErrorCode.INTEGRITY,
              "value does not match its SHA-256: sent "
                  + HEX.formatHex(claimed)
                  + ", received bytes hash to "
                  + HEX.formatHex(actual));
        }
      }
      actualSha = HEX.formatHex(actual);
      pipe.end();
    } catch (RuntimeException e) {
      fail(e);
    }
  }

  private synchronized void answer(PutResponse response) {
    if (!answered) {
      answered = true;
      responses.onNext(response);
      responses.onCompleted();
    }
  }

  private synchronized void fail(RuntimeException e) {
    pipe.fail(new IOException("upload refused: " + e.getMessage()));
    if (!answered) {
      answered = true;
      responses.onError(GrpcErrors.toStatus(e));
    }
  }

  private static byte[] sha(byte[] sha, String where) {
    if (sha.length != 32) {
      throw new DstoreException(
          ErrorCode.INVALID_ARGUMENT,
          "SHA-256 in the " + where + " is " + sha.length + " bytes, not 32");
    }
    return sha;
  }

  /**
   * Chunks from gRPC to the Local's upload. A read waits at most the idle timeout for the next
   * chunk; a failure overtakes chunks still queued.
   */
  private static final class Pipe extends InputStream {
    private static final Object END = new Object();

    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private final long idleNanos;
    private final Runnable taken;
    private ByteBuffer current;
    private boolean ended;
    private volatile IOException failure;
    volatile boolean idle;

    Pipe(Duration idleTimeout, Runnable taken) {
      this.idleNanos = idleTimeout.toNanos();
      this.taken = taken;
    }

    void offer(ByteBuffer data) {
      queue.add(data);
    }

    void end() {
      queue.add(END);
    }

    void fail(IOException e) {
      if (failure == null) {
        failure = e;
      }
      queue.add(END);
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (current == null || !current.hasRemaining()) {
        checkFailure();
        if (ended) {
          return -1;
        }
        Object next;
        try {
          next = queue.poll(idleNanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IOException("interrupted", e);
        }
        if (next == null) {
          idle = true;
          throw new IOException("upload idle: nothing arrived in time");
        }
        if (next == END) {
          ended = true;
          continue;
        }
        current = (ByteBuffer) next;
        taken.run();
      }
      checkFailure();
      int n = Math.min(len, current.remaining());
      current.get(b, off, n);
      return n;
    }

    private void checkFailure() throws IOException {
      IOException f = failure;
      if (f != null) {
        throw f;
      }
    }
  }
}
