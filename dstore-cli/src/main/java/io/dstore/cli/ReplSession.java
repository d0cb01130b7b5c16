package io.dstore.cli;

import io.dstore.Dstore;

/**
 * What REPL commands run against.
 *
 * @param dstore the Local
 * @param interactive whether a person is at a terminal: multi-line answers are allowed then;
 *     otherwise every command prints exactly one line
 */
record ReplSession(Dstore dstore, boolean interactive) {}
