/** The serving stack every dstore server shares (Global and the Local daemon). */
module io.dstore.serving {
  requires transitive io.dstore.proto;
  requires transitive micrometer.registry.prometheus;
  requires transitive micrometer.core;
  requires io.grpc.netty.shaded;
  requires io.grpc.services;
  requires io.grpc.inprocess;
  requires java.logging;
  requires jdk.httpserver;
  requires org.slf4j;

  exports io.dstore.serving;
}
