/**
 * The {@code dstore} command-line application: {@code global}, {@code local} (the REPL), {@code
 * demo} and the one-shot commands. Only {@link io.dstore.cli.Main} is public; everything else is an
 * implementation detail and not API.
 */
package io.dstore.cli;
