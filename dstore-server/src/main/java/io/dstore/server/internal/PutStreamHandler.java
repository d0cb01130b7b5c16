package io.dstore.server.internal;

import static java.nio.charset.StandardCharsets.US_ASCII;

import com.google.protobuf.ByteString;
import io.dstore.proto.PutChunk;
import io.dstore.proto.PutHeader;
import io.dstore.proto.PutResponse;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.wire.ContentKey;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Receives one streamed upload: the header, then bytes written to a storage {@link Storage.Upload}
 * as they arrive, hashed on the way; the client's half-close commits. Any failure, and any
 * cancellation or disconnect by the client, aborts the upload, so nothing partial is ever visible
 * and no key stays reserved. gRPC delivers one message at a time and asks for the next only after
 * {@link #onNext} returns, which bounds memory to one chunk.
 *
 * <p>The header message may itself carry the first bytes, and the SHA-256 trailer too when it is
 * the only message (a small value in one message). The SHA-256 goes in the header or in the last
 * message; sent in both, both must match. Each message carries at most {@link
 * Limits#streamChunkBytes()} bytes.
 *
 * <p>An upload that receives no message for the {@link IdleTimeout} is cut off (DEADLINE_EXCEEDED)
 * and aborted, so a client that opens an upload and stalls holds nothing for long. The idle timer
 * fires on another thread, so every entry point is synchronized on this handler (uncontended but
 * for that race).
 */
final class PutStreamHandler implements StreamObserver<PutChunk> {
  private static final Logger log = LoggerFactory.getLogger(PutStreamHandler.class);

  private final StreamObserver<PutResponse> responses;
  private final Storage storage;
  private final Limits limits;
  private final Writes writes;
  private final MessageDigest digest = Sha256.newDigest();
  private final IdleTimeout idleTimeout;
  private final IdleTimeout.Watch idle;

  private byte[] key; // null until the header arrived; for a content upload, known at the end
  private boolean started;
  private boolean contentAddressed; // the key is sha256:<hex of the bytes>, derived at the end
  private long declaredSize;
  private String headerSha;
  private String trailerSha;
  private Storage.Upload upload; // null when discarding (content already stored)
  private StoredInfo existingContent;
  private ByteString requestId = ByteString.EMPTY;
  private boolean ownRetry; // the key exists, created by this very put (same request id)
  private long received;
  private boolean ended;

  PutStreamHandler(
      StreamObserver<PutResponse> responses,
      Storage storage,
      Limits limits,
      Writes writes,
      IdleTimeout idleTimeout) {
    this.responses = responses;
    this.storage = storage;
    this.limits = limits;
    this.writes = writes;
    this.idleTimeout = idleTimeout;
    this.idle = idleTimeout.watch(this::onIdle);
  }

  @Override
  public synchronized void onNext(PutChunk chunk) {
    if (ended) {
      return;
    }
    idle.touch();
    try {
      if (!started) {
        start(chunk);
      } else if (chunk.hasHeader()) {
        throw GrpcErrors.status(ErrorCode.INVALID_ARGUMENT, "the upload header was sent twice");
      }
      if (trailerSha != null) {
        throw GrpcErrors.status(
            ErrorCode.INVALID_ARGUMENT,
            "bytes arrived after the SHA-256 trailer; it must come last");
      }
      limits.checkStreamChunk(chunk.getData().size());
      accept(chunk.getData());
      if (!chunk.getSha256().isEmpty()) {
        trailerSha = hexDigest(chunk.getSha256().toByteArray(), "trailer");
      }
    } catch (IOException | RuntimeException e) {
      fail(e);
    }
  }

  @Override
  public synchronized void onError(Throwable t) {
    if (!ended) {
      ended = true;
      idle.stop();
      abort();
      log.debug("upload of {} bytes cut off by the client: {}", received, t.toString());
    }
  }

  @Override
  public synchronized void onCompleted() {
    if (ended) {
      return;
    }
    idle.stop();
    try {
      if (!started) {
        throw GrpcErrors.status(
            ErrorCode.INVALID_ARGUMENT, "empty upload: the first message must carry the header");
      }
      if (declaredSize >= 0 && received != declaredSize) {
        throw GrpcErrors.status(
            ErrorCode.INVALID_ARGUMENT,
            "upload ended after " + received + " of the " + declaredSize + " declared bytes");
      }
      if (headerSha == null && trailerSha == null) {
        throw GrpcErrors.status(
            ErrorCode.INVALID_ARGUMENT,
            "upload carries no SHA-256, in the header or the last message");
      }
      String actual = Sha256.hex(digest.digest());
      // Sent in both places, both are checked: none is ignored.
      for (String claimed : new String[] {headerSha, trailerSha}) {
        if (claimed != null && !claimed.equals(actual)) {
          throw GrpcErrors.status(
              ErrorCode.INTEGRITY,
              "value does not match its SHA-256: sent "
                  + claimed
                  + ", received bytes hash to "
                  + actual);
        }
      }
      PutResponse response;
      if (contentAddressed) {
        response = writes.commitContent(upload, actual);
      } else if (upload == null) {
        writes.checkContentKey(key, actual);
        response = Writes.response(key, existingContent, ownRetry);
      } else {
        response = writes.commit(key, upload, actual, requestId);
      }
      ended = true;
      responses.onNext(response);
      responses.onCompleted();
    } catch (IOException | RuntimeException e) {
      fail(e);
    }
  }

  private void start(PutChunk chunk) throws IOException {
    if (!chunk.hasHeader()) {
      throw GrpcErrors.status(
          ErrorCode.INVALID_ARGUMENT, "the first message of an upload must carry the header");
    }
    PutHeader header = chunk.getHeader();
    declaredSize = limits.declaredSize(header);
    Writes.checkRequestId(header.getRequestId());
    requestId = header.getRequestId();
    if (!header.getSha256().isEmpty()) {
      headerSha = hexDigest(header.getSha256().toByteArray(), "header");
    }
    started = true;
    if (header.getContentAddressed()) {
      if (!header.getKey().isEmpty()) {
        throw GrpcErrors.status(
            ErrorCode.INVALID_ARGUMENT,
            "a content-addressed upload names no key: Global derives sha256:<hex> from the bytes");
      }
      if (headerSha == null) {
        // The key is known only at the end: write under no name, commit under the digest's.
        contentAddressed = true;
        writes.checkSpace();
        upload = storage.create(ContentKey.PREFIX.getBytes(US_ASCII), declaredSize);
        return;
      }
      header = header.toBuilder().setKey(Writes.contentKey(headerSha)).build();
    }
    limits.checkKey(header.getKey());
    byte[] k = header.getKey().toByteArray();
    Optional<StoredInfo> existing = storage.stat(k);
    if (existing.isPresent()) {
      Optional<StoredInfo> mine = writes.settle(k, requestId);
      ownRetry = mine.isPresent();
      if (!ownRetry && !ContentKey.isContentKey(k)) {
        throw GrpcErrors.status(ErrorCode.ALREADY_EXISTS, "key already exists");
      }
      // verify the bytes anyway, then change nothing
      existingContent = ownRetry ? mine.get() : existing.get();
    } else {
      writes.checkSpace();
      upload = storage.create(k, declaredSize, requestId.toByteArray());
    }
    key = k;
  }

  private void accept(ByteString data) throws IOException {
    int n = data.size();
    if (n == 0) {
      return;
    }
    received += n;
    if (declaredSize >= 0 && received > declaredSize) {
      throw GrpcErrors.status(
          ErrorCode.INVALID_ARGUMENT,
          "upload sent more than the " + declaredSize + " declared bytes");
    }
    limits.checkValueSize(received);
    Sha256.update(digest, data);
    if (upload != null) {
      upload.write(data.asReadOnlyByteBuffer());
    }
  }

  private void fail(Throwable e) {
    ended = true;
    idle.stop();
    abort();
    responses.onError(Writes.report(e, log));
  }

  /** The idle timer ran out: drop what arrived and tell the client why. */
  private synchronized void onIdle() {
    if (ended) {
      return;
    }
    log.debug("upload idle after {} bytes: cut off", received);
    fail(
        GrpcErrors.status(
            ErrorCode.UNAVAILABLE,
            "upload cut off after "
                + received
                + " bytes: nothing arrived for "
                + idleTimeout.timeout().toMillis()
                + " ms, so the partial value was dropped; "
                + idleTimeout.describe()));
  }

  private void abort() {
    if (upload != null) {
      upload.abort();
    }
  }

  private static String hexDigest(byte[] sha, String where) {
    if (sha.length != 32) {
      throw GrpcErrors.status(
          ErrorCode.INVALID_ARGUMENT,
          "SHA-256 in the " + where + " is " + sha.length + " bytes, not 32");
    }
    return Sha256.hex(sha);
  }
}
