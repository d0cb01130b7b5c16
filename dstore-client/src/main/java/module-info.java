/**
 * The dstore client library: {@code Dstore.connect} and the Local inside it. Only {@code io.dstore}
 * is API (with the wire contract's {@code io.dstore.wire} for its errors); {@code
 * io.dstore.internal} is not.
 */
module io.dstore.client {
  requires transitive io.dstore.proto;
  requires io.grpc.netty.shaded;
  requires io.grpc.inprocess;
  requires com.github.benmanes.caffeine;
  requires static micrometer.core;
  requires static com.google.errorprone.annotations;
  requires org.slf4j;

  exports io.dstore;
}
