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
  // the cluster store's S3 access names types of these SDK modules (request bodies, regions,
  // credentials, HTTP client options, checksum settings), and jetcd's TLS setup Netty's SslContext
  requires software.amazon.awssdk.core;
  requires software.amazon.awssdk.regions;
  requires software.amazon.awssdk.auth;
  requires software.amazon.awssdk.http;
  requires software.amazon.awssdk.utils;
  requires io.netty.handler;
  requires micrometer.core;
  requires micrometer.registry.prometheus;
  requires static com.google.errorprone.annotations;
  requires org.slf4j;

  exports io.dstore.server;
}
