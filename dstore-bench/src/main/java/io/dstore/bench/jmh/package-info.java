/**
 * JMH benchmarks of dstore's in-process hot paths: a Local cache hit, raw Caffeine as its peer, and
 * a get that goes to Global over loopback. Run them as docs/benchmarks.md says; not API.
 */
package io.dstore.bench.jmh;
