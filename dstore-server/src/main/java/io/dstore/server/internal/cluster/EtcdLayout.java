package io.dstore.server.internal.cluster;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.etcd.jetcd.ByteSequence;
import java.util.Base64;

/**
 * Where the cluster store keeps things in etcd. Every gateway of one cluster uses the same prefix
 * (by default {@code /dstore/}); under it:
 *
 * <table>
 *   <caption>etcd keys</caption>
 *   <tr><th>key</th><th>value</th><th>lease</th></tr>
 *   <tr><td>{@code cluster-id}</td><td>the cluster's random id, created once; every gateway's
 *       incarnation</td><td>none</td></tr>
 *   <tr><td>{@code k/<key>}</td><td>a value's metadata ({@link Meta}): size, SHA-256, the creating
 *       put's request id, and the bytes (inline) or the S3 object that holds them. Its {@code
 *       create_revision} is the value's generation</td><td>none</td></tr>
 *   <tr><td>{@code d/<key>}</td><td>a strict delete under way ({@code DeleteMark}); its {@code
 *       mod_revision} is the invalidation's seq</td><td>the deleting gateway's</td></tr>
 *   <tr><td>{@code g/<gateway>}</td><td>a live gateway and its address</td><td>that gateway's</td></tr>
 *   <tr><td>{@code a/<gateway>}</td><td>the revision up to which every invalidation has been
 *       confirmed by that gateway's Locals (decimal)</td><td>that gateway's</td></tr>
 *   <tr><td>{@code r/<request id>}</td><td>the answer of a put (created: size and SHA-256; or
 *       refused) or of a completed delete, for retries</td><td>a records lease (5 to 10
 *       minutes)</td></tr>
 *   *   <tr><td>{@code u/<upload id>}</td><td>an upload in progress, whose S3 object the collector
 *       must keep; the value is the object's name. Put before the first byte goes to S3, deleted by
 *       the commit's txn (which requires it), never put again</td><td>the uploading gateway's</td>
 *       </tr>
 * </table>
 *
 * <p>{@code <key>} and {@code <request id>} are the raw bytes in unpadded base64url, so any key
 * bytes (NUL included) make a valid etcd key. S3 objects are named {@code <s3 prefix>v/<upload
 * id>}.
 */
public final class EtcdLayout {
  private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getUrlDecoder();

  private final String prefix;

  /**
   * @param prefix ends with {@code /}, e.g. {@code /dstore/}
   */
  public EtcdLayout(String prefix) {
    if (prefix.isEmpty() || !prefix.endsWith("/")) {
      throw new IllegalArgumentException("the etcd prefix must end with '/': " + prefix);
    }
    this.prefix = prefix;
  }

  public String prefix() {
    return prefix;
  }

  public ByteSequence all() {
    return seq(prefix);
  }

  public ByteSequence clusterId() {
    return seq(prefix + "cluster-id");
  }

  public ByteSequence meta(byte[] key) {
    return seq(prefix + "k/" + B64.encodeToString(key));
  }

  public ByteSequence metaPrefix() {
    return seq(prefix + "k/");
  }

  public ByteSequence mark(byte[] key) {
    return seq(prefix + "d/" + B64.encodeToString(key));
  }

  public ByteSequence markPrefix() {
    return seq(prefix + "d/");
  }

  public ByteSequence gateway(String gatewayId) {
    return seq(prefix + "g/" + gatewayId);
  }

  public ByteSequence gatewayPrefix() {
    return seq(prefix + "g/");
  }

  public ByteSequence acked(String gatewayId) {
    return seq(prefix + "a/" + gatewayId);
  }

  public ByteSequence ackedPrefix() {
    return seq(prefix + "a/");
  }

  public ByteSequence request(byte[] requestId) {
    return seq(prefix + "r/" + B64.encodeToString(requestId));
  }

  public ByteSequence upload(String uploadId) {
    return seq(prefix + "u/" + uploadId);
  }

  public ByteSequence uploadPrefix() {
    return seq(prefix + "u/");
  }

  /**
   * The user key of a {@code k/} or {@code d/} etcd key, or null for any other etcd key.
   *
   * @param etcdKey an etcd key under this layout's prefix
   */
  public byte[] userKeyOf(ByteSequence etcdKey) {
    String s = etcdKey.toString(UTF_8);
    if (s.startsWith(prefix + "k/") || s.startsWith(prefix + "d/")) {
      return B64D.decode(s.substring(prefix.length() + 2));
    }
    return null;
  }

  /** The upload id of a {@code u/} etcd key, or null for any other etcd key. */
  public String uploadIdOf(ByteSequence etcdKey) {
    String s = etcdKey.toString(UTF_8);
    return s.startsWith(prefix + "u/") ? s.substring(prefix.length() + 2) : null;
  }

  /** The gateway id of a {@code g/} or {@code a/} etcd key, or null for any other etcd key. */
  public String gatewayIdOf(ByteSequence etcdKey) {
    String s = etcdKey.toString(UTF_8);
    if (s.startsWith(prefix + "g/") || s.startsWith(prefix + "a/")) {
      return s.substring(prefix.length() + 2);
    }
    return null;
  }

  /** The sub-space ({@code 'k'}, {@code 'd'}, {@code 'g'}, ...) of an etcd key, or 0. */
  public char spaceOf(ByteSequence etcdKey) {
    String s = etcdKey.toString(UTF_8);
    if (!s.startsWith(prefix) || s.length() < prefix.length() + 2) {
      return 0;
    }
    return s.charAt(prefix.length() + 1) == '/' ? s.charAt(prefix.length()) : 0;
  }

  public static ByteSequence seq(String s) {
    return ByteSequence.from(s, UTF_8);
  }
}
