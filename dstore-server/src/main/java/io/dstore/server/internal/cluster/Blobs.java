package io.dstore.server.internal.cluster;

import io.dstore.server.ClusterConfig;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListMultipartUploadsResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.MultipartUpload;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 objects that hold the bytes of values above the inline threshold: streaming uploads in
 * parts, ranged reads, deletes and listings. Objects are named {@code <s3 prefix>v/<upload id>}.
 * Never decides what may be deleted: that is {@link BlobCollector}'s job.
 *
 * <p>Thread-safe, except a {@link Writer}, which has one writer. Every S3 failure becomes an {@link
 * IOException} naming S3, the endpoint and the bucket; each call is timed in {@link ClusterStats}
 * under {@code s3.<operation>}.
 */
final class Blobs {
  private static final Logger LOG = LoggerFactory.getLogger(Blobs.class);

  /** The most bytes one ranged GET asks for. */
  static final int MAX_RANGE = 8 << 20;

  private final S3Client s3;
  private final String bucket;
  private final String prefix;
  private final int partSize;
  private final String where;
  private final ClusterStats stats;

  Blobs(S3Client s3, ClusterConfig config, ClusterStats stats) {
    this.s3 = s3;
    this.bucket = config.bucket();
    this.prefix = config.s3Prefix();
    this.partSize = config.partSize();
    this.where =
        "S3 (" + config.s3Endpoint().map(Object::toString).orElse("AWS " + config.region()) + ")";
    this.stats = stats;
  }

  /** A new object name, for the upload {@code uploadId}. */
  String objectName(String uploadId) {
    return prefix + "v/" + uploadId;
  }

  static String newUploadId() {
    return UUID.randomUUID().toString();
  }

  /** The upload id in an object name made by {@link #objectName}, or null for any other name. */
  String uploadIdOf(String objectName) {
    String head = prefix + "v/";
    return objectName.startsWith(head) ? objectName.substring(head.length()) : null;
  }

  /** An object that exists in the bucket. */
  record Blob(String name, long size, Instant lastModified) {}

  /** A multipart upload never completed nor aborted. */
  record Incomplete(String name, String multipartId, Instant initiated) {}

  @FunctionalInterface
  private interface Call<T> {
    T call() throws IOException;
  }

  private <T> T timed(String operation, String object, Call<T> call) throws IOException {
    long start = System.nanoTime();
    boolean failed = true;
    try {
      T result = call.call();
      failed = false;
      return result;
    } catch (SdkException e) {
      String message =
          where
              + " failed to "
              + operation
              + " s3://"
              + bucket
              + "/"
              + (object == null ? prefix : object)
              + ": "
              + e.getMessage();
      boolean unreachable =
          e instanceof software.amazon.awssdk.core.exception.SdkClientException
              || (e instanceof software.amazon.awssdk.core.exception.SdkServiceException a
                  && a.statusCode() >= 500);
      throw unreachable
          ? new io.dstore.server.internal.BackendUnavailableException(message, e)
          : new IOException(message, e);
    } finally {
      stats.timer("s3." + operation).record(System.nanoTime() - start, failed);
    }
  }

  /** Starts streaming a new object {@code name}; nothing exists in S3 until the first part. */
  Writer writer(String name, long declaredSize) {
    return new Writer(name, declaredSize);
  }

  /**
   * Copies the object's bytes from {@code position} into {@code dst} until it is full or the object
   * ends; returns how many. {@code size} is the object's known size.
   */
  int read(String name, long size, long position, ByteBuffer dst) throws IOException {
    int total = 0;
    while (dst.hasRemaining() && position < size) {
      int want = (int) Math.min(Math.min(dst.remaining(), MAX_RANGE), size - position);
      long from = position;
      int got =
          timed(
              "get",
              name,
              () -> {
                try (ResponseInputStream<GetObjectResponse> in =
                    s3.getObject(
                        b ->
                            b.bucket(bucket)
                                .key(name)
                                .range("bytes=" + from + "-" + (from + want - 1)))) {
                  return copy(in, dst, want);
                }
              });
      if (got < want) {
        throw new IOException(
            where + ": object s3://" + bucket + "/" + name + " is shorter than its metadata says");
      }
      position += got;
      total += got;
    }
    return total;
  }

  private static int copy(InputStream in, ByteBuffer dst, int want) throws IOException {
    int n = 0;
    if (dst.hasArray()) {
      while (n < want) {
        int r = in.read(dst.array(), dst.arrayOffset() + dst.position(), want - n);
        if (r < 0) {
          break;
        }
        dst.position(dst.position() + r);
        n += r;
      }
      return n;
    }
    byte[] buffer = new byte[Math.min(want, 64 << 10)];
    while (n < want) {
      int r = in.read(buffer, 0, Math.min(buffer.length, want - n));
      if (r < 0) {
        break;
      }
      dst.put(buffer, 0, r);
      n += r;
    }
    return n;
  }

  /** Deletes the object; deleting an absent object succeeds. */
  void delete(String name) throws IOException {
    timed("delete", name, () -> s3.deleteObject(b -> b.bucket(bucket).key(name)));
  }

  /** Deletes the object, logging instead of failing. */
  void deleteQuietly(String name) {
    try {
      delete(name);
    } catch (IOException | RuntimeException e) {
      LOG.warn("could not delete {} (the collector will): {}", name, e.toString());
    }
  }

  /** Every object under {@code <prefix>v/}, with its size and last-modified time. */
  List<Blob> list() throws IOException {
    return timed(
        "list",
        null,
        () -> {
          List<Blob> blobs = new ArrayList<>();
          ListObjectsV2Request request =
              ListObjectsV2Request.builder().bucket(bucket).prefix(prefix + "v/").build();
          for (S3Object o : s3.listObjectsV2Paginator(request).contents()) {
            blobs.add(new Blob(o.key(), o.size(), o.lastModified()));
          }
          return blobs;
        });
  }

  /** Multipart uploads under {@code <prefix>v/} neither completed nor aborted. */
  List<Incomplete> listIncomplete() throws IOException {
    return timed(
        "list-multipart",
        null,
        () -> {
          List<Incomplete> all = new ArrayList<>();
          String keyMarker = null;
          String idMarker = null;
          while (true) {
            String km = keyMarker;
            String im = idMarker;
            ListMultipartUploadsResponse page =
                s3.listMultipartUploads(
                    b -> b.bucket(bucket).prefix(prefix + "v/").keyMarker(km).uploadIdMarker(im));
            for (MultipartUpload u : page.uploads()) {
              all.add(new Incomplete(u.key(), u.uploadId(), u.initiated()));
            }
            if (!Boolean.TRUE.equals(page.isTruncated())) {
              return all;
            }
            keyMarker = page.nextKeyMarker();
            idMarker = page.nextUploadIdMarker();
          }
        });
  }

  /** Aborts a multipart upload; one already gone is fine. */
  void abortMultipart(String name, String multipartId) throws IOException {
    timed(
        "abort",
        name,
        () -> {
          try {
            return s3.abortMultipartUpload(b -> b.bucket(bucket).key(name).uploadId(multipartId));
          } catch (software.amazon.awssdk.services.s3.model.NoSuchUploadException e) {
            return null;
          }
        });
  }

  /** Whether the object exists (a HEAD). */
  boolean exists(String name) throws IOException {
    return timed(
        "head",
        name,
        () -> {
          try {
            s3.headObject(b -> b.bucket(bucket).key(name));
            return true;
          } catch (NoSuchKeyException e) {
            return false;
          } catch (software.amazon.awssdk.services.s3.model.S3Exception e) {
            if (e.statusCode() == 404) {
              return false;
            }
            throw e;
          }
        });
  }

  /**
   * Streams one object up: bytes are gathered into parts of {@code partSize}, each sent as soon as
   * it is full; the first full part starts a multipart upload. An object that ends within its first
   * part goes up as one PutObject at {@link #finish}. Nothing of it is visible in S3 before {@link
   * #finish}; {@link #abort} aborts the multipart upload. One writer; not thread-safe.
   */
  final class Writer {
    private final String name;
    private byte[] part;
    private int length;
    private long written;
    private String multipartId;
    private final List<CompletedPart> parts = new ArrayList<>();
    private long uploadedBytes;

    private Writer(String name, long declaredSize) {
      this.name = name;
      int first = declaredSize > 0 ? (int) Math.min(declaredSize, partSize) : 256 << 10;
      this.part = new byte[Math.min(first, partSize)];
    }

    String name() {
      return name;
    }

    long written() {
      return written;
    }

    /** Bytes sent to S3 in parts so far (held by S3 until finished or aborted). */
    long uploadedBytes() {
      return uploadedBytes;
    }

    void write(byte[] bytes, int offset, int count) throws IOException {
      while (count > 0) {
        if (length == part.length) {
          part = java.util.Arrays.copyOf(part, Math.min(partSize, part.length * 2));
        }
        int n = Math.min(count, part.length - length);
        System.arraycopy(bytes, offset, part, length, n);
        length += n;
        offset += n;
        count -= n;
        written += n;
        if (length == partSize) {
          flushPart(); // at once: bytes held are in S3, not in this heap
        }
      }
    }

    void write(ByteBuffer bytes) throws IOException {
      while (bytes.hasRemaining()) {
        if (length == part.length) {
          part = java.util.Arrays.copyOf(part, Math.min(partSize, part.length * 2));
        }
        int n = Math.min(bytes.remaining(), part.length - length);
        bytes.get(part, length, n);
        length += n;
        written += n;
        if (length == partSize) {
          flushPart();
        }
      }
    }

    private void flushPart() throws IOException {
      if (multipartId == null) {
        multipartId =
            timed(
                "create-multipart",
                name,
                () -> s3.createMultipartUpload(b -> b.bucket(bucket).key(name)).uploadId());
      }
      int number = parts.size() + 1;
      int n = length;
      byte[] bytes = part;
      String etag =
          timed(
              "put-part",
              name,
              () ->
                  s3.uploadPart(
                          b ->
                              b.bucket(bucket)
                                  .key(name)
                                  .uploadId(multipartId)
                                  .partNumber(number)
                                  .contentLength((long) n),
                          RequestBody.fromBytes(
                              n == bytes.length ? bytes : java.util.Arrays.copyOf(bytes, n)))
                      .eTag());
      parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
      uploadedBytes += n;
      length = 0;
    }

    /** Sends what is left and makes the object exist in S3. Ends the writer. */
    void finish() throws IOException {
      if (multipartId == null) {
        int n = length;
        byte[] bytes = java.util.Arrays.copyOf(part, n);
        timed(
            "put",
            name,
            () ->
                s3.putObject(
                    b -> b.bucket(bucket).key(name).contentLength((long) n),
                    RequestBody.fromBytes(bytes)));
      } else {
        if (length > 0) {
          flushPart();
        }
        String id = multipartId;
        timed(
            "complete-multipart",
            name,
            () ->
                s3.completeMultipartUpload(
                    b ->
                        b.bucket(bucket)
                            .key(name)
                            .uploadId(id)
                            .multipartUpload(m -> m.parts(parts))));
      }
      part = new byte[0];
      length = 0;
    }

    /** Drops the parts sent so far; best effort (the collector aborts what this misses). */
    void abort() {
      part = new byte[0];
      length = 0;
      if (multipartId != null) {
        try {
          abortMultipart(name, multipartId);
          uploadedBytes = 0;
        } catch (IOException | RuntimeException e) {
          LOG.warn("could not abort the multipart upload of {}: {}", name, e.toString());
        }
      }
    }
  }
}
