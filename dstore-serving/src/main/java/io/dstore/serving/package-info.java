/**
 * The serving stack that every dstore server shares: transport, TLS, tokens, health, reflection and
 * {@code /metrics}. Used by Global (dstore-server) and the Local daemon (dstore-daemon); not part
 * of the client library.
 */
@NullMarked
package io.dstore.serving;

import org.jspecify.annotations.NullMarked;
