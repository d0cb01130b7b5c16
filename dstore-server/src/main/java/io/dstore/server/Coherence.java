package io.dstore.server;

/** How Global trades delete latency against what a reader may observe. */
public enum Coherence {
  /**
   * The default. {@code delete} returns only after every live Local acknowledged the invalidation
   * or its lease ran out; once it has returned, no Local serves the deleted value. Reads are
   * linearizable.
   */
  STRICT,
  /**
   * {@code delete} returns as soon as Global removed the key; a Local may serve the deleted value
   * until the pushed invalidation reaches it (normally well under a millisecond on one host).
   */
  EVENTUAL
}
