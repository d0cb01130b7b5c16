package io.dstore.wire;

/**
 * Why a dstore operation failed. Every {@link DstoreException} carries exactly one code; each code
 * travels on the wire as the proto's {@code ErrorCode} in the typed trailer {@code
 * dstore.v1.ErrorDetail-bin}, under the gRPC status {@link GrpcErrors#statusCodeOf} names, so a
 * code means the same thing whether it was raised by the Local, the daemon or Global.
 */
public enum ErrorCode {
  /** The key does not exist. */
  NOT_FOUND,
  /** The key exists already; keys are write-once. */
  ALREADY_EXISTS,
  /** The request is malformed: an empty key, a negative offset, a range past the end. */
  INVALID_ARGUMENT,
  /** A key, value or message exceeds a configured limit; the message names the limit. */
  TOO_LARGE,
  /** Global cannot be reached, or did not answer in time. The operation may be retried. */
  UNAVAILABLE,
  /** The caller presented no credentials or wrong ones. */
  UNAUTHENTICATED,
  /** The caller is known but not allowed to do this. */
  PERMISSION_DENIED,
  /** Bytes do not match their SHA-256: a lying digest on upload, or corruption on download. */
  INTEGRITY,
  /** A server-side limit on concurrent streams, connections or subscriptions was reached. */
  RESOURCE_EXHAUSTED,
  /** A bug or an unexpected failure; the message says what happened. */
  INTERNAL,
  /**
   * Global is out of disk space: free space on its data directory's filesystem is below the
   * watermark ({@code --min-free-disk}), or the disk filled up. New values are refused until space
   * is freed; deletes and reads still work. The message names the free space and the watermark.
   */
  NO_SPACE,
  /**
   * A put or delete may or may not have happened: its connection was cut off after it was sent and
   * a retry could not learn what the first attempt did. Check with {@code stat} before repeating
   * it. Never raised for a retry the server could match to its first attempt by request id.
   */
  OUTCOME_UNKNOWN
}
