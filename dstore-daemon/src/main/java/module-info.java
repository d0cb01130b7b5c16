/**
 * The per-host Local daemon ({@code dstore local --listen}). Only {@code io.dstore.daemon} is API.
 */
module io.dstore.daemon {
  requires transitive io.dstore.client;
  requires transitive io.dstore.serving;
  requires micrometer.core;
  requires micrometer.registry.prometheus;
  requires static com.google.errorprone.annotations;
  requires org.slf4j;

  exports io.dstore.daemon;
}
