package io.dstore.check;

/**
 * One operation of a recorded history on one key.
 *
 * @param client who issued it (for messages)
 * @param kind what was asked
 * @param value the value written (PUT) or read (GET with outcome VALUE); null otherwise
 * @param outcome what the caller was told
 * @param invoke when it was invoked (nanoTime)
 * @param response when it returned (nanoTime); {@link Long#MAX_VALUE} when the outcome is unknown
 */
public record Op(
    String client, Kind kind, String value, Outcome outcome, long invoke, long response) {

  /** What was asked. */
  public enum Kind {
    PUT,
    GET,
    DELETE
  }

  /** What the caller was told. */
  public enum Outcome {
    /** PUT created the key; DELETE removed it. */
    OK,
    /** GET returned {@code value}. */
    VALUE,
    /** GET or DELETE: the key did not exist. */
    NOT_FOUND,
    /** PUT: the key existed. */
    EXISTS,
    /** The call failed in a way that leaves its effect unknown (timeout, connection lost). */
    UNKNOWN
  }

  @Override
  public String toString() {
    String v = value == null ? "" : " " + value;
    String end = response == Long.MAX_VALUE ? "?" : Long.toString(response);
    return client + " " + kind + v + " -> " + outcome + " [" + invoke + ", " + end + "]";
  }
}
