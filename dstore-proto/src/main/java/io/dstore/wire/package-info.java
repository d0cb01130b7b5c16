/**
 * The hand-written part of the wire contract, shared by every side: error codes and their one
 * converter to and from gRPC statuses, the content-key and token rules, SHA-256 and byte ranges.
 */
@NullMarked
package io.dstore.wire;

import org.jspecify.annotations.NullMarked;
