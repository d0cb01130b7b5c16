/**
 * The benchmark harness behind {@code dstore bench}: the systems it starts, the scenarios it runs,
 * and how it reports them. Not API: everything here may change without notice.
 */
package io.dstore.bench.internal;
