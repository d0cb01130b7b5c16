package io.dstore.serving;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The JVM and process meters every dstore server publishes beside its own, from Micrometer's
 * binders: heap and non-heap memory and buffer pools ({@code jvm_memory_*}, {@code jvm_buffer_*}),
 * garbage collection ({@code jvm_gc_*}), threads ({@code jvm_threads_*}), classes ({@code
 * jvm_classes_*}), CPU ({@code process_cpu_usage}, {@code system_cpu_*}), open files ({@code
 * process_files_*}) and uptime ({@code process_uptime_seconds}, {@code
 * process_start_time_seconds}).
 *
 * <p>{@link #close()} unhooks the garbage-collection listener (the one binder that holds on to the
 * registry); the other meters stay in the registry until it is closed. Thread-safe; {@link #close}
 * is idempotent.
 */
public final class ProcessMetrics implements AutoCloseable {
  private final JvmGcMetrics gc;
  private final AtomicBoolean closed = new AtomicBoolean();

  private ProcessMetrics(JvmGcMetrics gc) {
    this.gc = gc;
  }

  /** Binds the JVM and process meters to {@code registry}; close the result on shutdown. */
  public static ProcessMetrics bindTo(MeterRegistry registry) {
    new JvmMemoryMetrics().bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new FileDescriptorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
    JvmGcMetrics gc = new JvmGcMetrics();
    gc.bindTo(registry);
    return new ProcessMetrics(gc);
  }

  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      gc.close();
    }
  }
}
