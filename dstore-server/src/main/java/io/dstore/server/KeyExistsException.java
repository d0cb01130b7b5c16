package io.dstore.server;

/** Thrown by {@link Storage.Upload#commit} when the key was created by someone else first. */
public final class KeyExistsException extends Exception {
  private static final long serialVersionUID = 1L;

  private final transient StoredInfo existing;

  public KeyExistsException(StoredInfo existing) {
    super("key already exists (generation " + existing.generation() + ")");
    this.existing = existing;
  }

  /** The value that holds the key. */
  public StoredInfo existing() {
    return existing;
  }
}
