/**
 * The dstore client library: connect with {@link io.dstore.Dstore#connect}; errors are {@link
 * io.dstore.wire.DstoreException}.
 */
@NullMarked
package io.dstore;

import org.jspecify.annotations.NullMarked;
