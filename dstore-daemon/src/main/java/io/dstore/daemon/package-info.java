/**
 * The per-host Local daemon: one Local's cache served over dstore's protocol to every process on a
 * host.
 */
@NullMarked
package io.dstore.daemon;

import org.jspecify.annotations.NullMarked;
