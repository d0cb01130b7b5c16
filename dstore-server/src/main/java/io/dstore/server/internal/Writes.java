package io.dstore.server.internal;

import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.dstore.proto.PutResponse;
import io.dstore.proto.ValueInfo;
import io.dstore.server.KeyExistsException;
import io.dstore.server.Storage;
import io.dstore.server.StoredInfo;
import io.dstore.wire.ContentKey;
import io.dstore.wire.DstoreException;
import io.dstore.wire.ErrorCode;
import io.dstore.wire.GrpcErrors;
import io.dstore.wire.Sha256;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.Optional;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;

/**
 * The write rules shared by unary and streamed puts: write-once keys, content keys that must match
 * their bytes and may be stored again without change, and commit-or-abort of uploads.
 */
final class Writes {
  private final Storage storage;
  private final DiskSpace space; // null: never refuse for want of space

  Writes(Storage storage) {
    this(storage, null);
  }

  Writes(Storage storage, DiskSpace space) {
    this.storage = storage;
    this.space = space;
  }

  /**
   * Refuses a new value with {@code NO_SPACE} when the disk is below its free-space watermark (see
   * {@link DiskSpace}). Called before anything is written; deletes and reads never call it.
   */
  void checkSpace() {
    if (space != null) {
      space.checkWrite();
    }
  }

  /** Stores a whole value that arrived in one message. */
  PutResponse putWhole(byte[] key, ByteString value, ByteString claimedSha, ByteString requestId)
      throws IOException {
    checkRequestId(requestId);
    MessageDigest digest = Sha256.newDigest();
    Sha256.update(digest, value);
    String actual = Sha256.hex(digest.digest());
    if (!claimedSha.isEmpty()) {
      if (claimedSha.size() != 32) {
        throw GrpcErrors.status(
            ErrorCode.INVALID_ARGUMENT, "SHA-256 is " + claimedSha.size() + " bytes, not 32");
      }
      String claimed = Sha256.hex(claimedSha.toByteArray());
      if (!claimed.equals(actual)) {
        throw GrpcErrors.status(
            ErrorCode.INTEGRITY,
            "value does not match its SHA-256: sent " + claimed + ", bytes hash to " + actual);
      }
    }
    checkContentKey(key, actual);
    Optional<StoredInfo> existing = storage.stat(key);
    if (existing.isPresent()) {
      return existingOrFail(key, existing.get(), actual, requestId);
    }
    checkSpace();
    Storage.Upload upload = storage.create(key, value.size(), requestId.toByteArray());
    try {
      for (ByteBuffer b : value.asReadOnlyByteBufferList()) {
        upload.write(b);
      }
      return commit(key, upload, actual, requestId);
    } finally {
      upload.close();
    }
  }

  /**
   * Commits {@code upload} (whose bytes hash to {@code sha}) under {@code key}, for the put with
   * {@code requestId} (or none: empty).
   */
  PutResponse commit(byte[] key, Storage.Upload upload, String sha, ByteString requestId)
      throws IOException {
    try {
      checkContentKey(key, sha);
      return response(key, upload.commit(sha), true);
    } catch (KeyExistsException e) {
      return existingOrFail(key, e.existing(), sha, requestId);
    } finally {
      upload.close();
    }
  }

  /**
   * Commits a content-addressed {@code upload} (whose bytes hash to {@code sha}) under {@code
   * sha256:<sha>}; if that content is stored already, drops the upload and answers "not created".
   */
  PutResponse commitContent(Storage.Upload upload, String sha) throws IOException {
    byte[] key = contentKey(sha).toByteArray();
    try {
      Optional<StoredInfo> existing = storage.stat(key);
      if (existing.isPresent()) {
        return existingOrFail(key, existing.get(), sha, ByteString.EMPTY);
      }
      return response(key, upload.commitAs(key, sha), true);
    } catch (KeyExistsException e) {
      return existingOrFail(key, e.existing(), sha, ByteString.EMPTY);
    } finally {
      upload.close();
    }
  }

  /** The content key {@code sha256:<hex>} of a digest given in hex. */
  static ByteString contentKey(String shaHex) {
    return ByteString.copyFromUtf8(ContentKey.PREFIX + shaHex);
  }

  /** INTEGRITY unless {@code key} is not a content key or names exactly this digest. */
  void checkContentKey(byte[] key, String sha) {
    if (ContentKey.isContentKey(key) && !ContentKey.matches(key, sha)) {
      throw GrpcErrors.status(
          ErrorCode.INTEGRITY,
          "content key does not match the value: the value's SHA-256 is " + sha);
    }
  }

  /**
   * The answer when {@code key} exists already: a put whose request id an earlier attempt already
   * applied answers as that attempt did (and one that was not is settled as refused, so the earlier
   * attempt can no longer land); the same content under a content key is "not created"; anything
   * else is ALREADY_EXISTS.
   */
  PutResponse existingOrFail(byte[] key, StoredInfo existing, String sha, ByteString requestId)
      throws IOException {
    Optional<StoredInfo> mine = settle(key, requestId);
    if (mine.isPresent()) {
      return response(key, mine.get(), true);
    }
    if (ContentKey.isContentKey(key) && existing.sha256().equals(sha)) {
      return response(key, existing, false);
    }
    throw GrpcErrors.status(ErrorCode.ALREADY_EXISTS, "key already exists");
  }

  /**
   * What an earlier attempt of the put with {@code requestId} created, if one committed; else
   * empty, and no attempt of it can commit from now on (see {@link Storage#settleRefused}).
   */
  Optional<StoredInfo> settle(byte[] key, ByteString requestId) throws IOException {
    if (requestId.isEmpty()) {
      return Optional.empty();
    }
    return storage.settleRefused(key, requestId.toByteArray());
  }

  /** Request ids are optional, and 8 to 64 bytes when given. */
  static void checkRequestId(ByteString requestId) {
    int n = requestId.size();
    if (n != 0 && (n < 8 || n > 64)) {
      throw GrpcErrors.status(
          ErrorCode.INVALID_ARGUMENT, "request_id must be 8 to 64 bytes, got " + n);
    }
  }

  static PutResponse response(byte[] key, StoredInfo info, boolean created) {
    return PutResponse.newBuilder()
        .setKey(ByteString.copyFrom(key))
        .setInfo(toProto(info))
        .setCreated(created)
        .build();
  }

  static ValueInfo toProto(StoredInfo info) {
    return ValueInfo.newBuilder()
        .setSize(info.size())
        .setGeneration(info.generation())
        .setSha256(UnsafeByteOperations.unsafeWrap(Sha256.unhex(info.sha256())))
        .build();
  }

  /**
   * The status to answer a failure with. Deliberate errors pass as they are; anything else is a
   * server fault, logged here with its stack trace (client mistakes are never logged as faults).
   */
  static StatusRuntimeException report(Throwable e, Logger log) {
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    if (e instanceof DstoreException) {
      return GrpcErrors.toStatus(e); // a deliberate refusal (a bad range, say), not a fault
    }
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    if (cause instanceof BackendUnavailableException) {
      log.warn("storage backend unavailable: {}", cause.getMessage());
      return GrpcErrors.status(ErrorCode.UNAVAILABLE, cause.getMessage(), cause);
    }
    if (cause instanceof NoSpaceException) {
      log.warn("write failed for want of disk space: {}", cause.getMessage());
      return GrpcErrors.status(
          ErrorCode.NO_SPACE, "Global's disk is full: " + cause.getMessage(), cause);
    }
    log.error("request failed inside Global", e);
    return GrpcErrors.toStatus(e);
  }
}
