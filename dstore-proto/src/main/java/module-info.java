/**
 * The dstore wire protocol: the generated messages and stubs ({@code io.dstore.proto}) and the
 * hand-written contract both sides of the wire share ({@code io.dstore.wire}): error codes and
 * their one converter, the content-key and token rules, SHA-256, byte ranges.
 */
module io.dstore.proto {
  requires transitive io.grpc;
  requires transitive io.grpc.stub;
  requires transitive io.grpc.protobuf;
  requires transitive com.google.protobuf;
  requires static transitive org.jspecify;
  requires com.google.common;

  exports io.dstore.proto;
  exports io.dstore.wire;
}
