package io.dstore;

import static java.util.Objects.requireNonNull;

/**
 * A value read with {@link Dstore#getEntry}: its bytes, its metadata, and where the Local found it.
 * Immutable; {@link #value()} returns a copy each call.
 */
public final class Entry {
  private final byte[] value;
  private final ValueInfo info;
  private final boolean fromCache;

  public Entry(byte[] value, ValueInfo info, boolean fromCache) {
    this.value = requireNonNull(value, "value").clone();
    this.info = requireNonNull(info, "info");
    this.fromCache = fromCache;
  }

  /** The value's bytes (a fresh copy). */
  public byte[] value() {
    return value.clone();
  }

  /** The value's size, generation and digest. */
  public ValueInfo info() {
    return info;
  }

  /**
   * True when the value was served from this Local's cache; false when it was fetched from Global
   * (and, if it fits, is now cached here).
   */
  public boolean fromCache() {
    return fromCache;
  }

  @Override
  public String toString() {
    return "Entry{" + info + ", fromCache=" + fromCache + "}";
  }
}
