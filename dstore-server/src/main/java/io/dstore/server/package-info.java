/** Global: the server, its options, and the storage interface its backends implement. */
@NullMarked
package io.dstore.server;

import org.jspecify.annotations.NullMarked;
