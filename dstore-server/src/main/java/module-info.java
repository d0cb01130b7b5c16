/**
 * Global: the gRPC service, the delete coordinator, membership and fan-out, and the storage
 * backends. Only {@code io.dstore.server} is API; {@code io.dstore.server.internal} is not.
 */
module io.dstore.server {
  requires transitive io.dstore.proto;
  requires transitive io.dstore.serving;
  requires rocksdbjni;
  requires jetcd.core;
  requires jetcd.common;
  requires software.amazon.awssdk.services.s3;
  requires micrometer.core;
  requires micrometer.registry.prometheus;
  requires static com.google.errorprone.annotations;
  requires org.slf4j;

  exports io.dstore.server;
}
