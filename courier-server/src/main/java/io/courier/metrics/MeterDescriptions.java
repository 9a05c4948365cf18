package io.courier.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import java.util.Map;

/**
 * Help text for the binder meters registered without one. Micrometer's Netty allocator binder gives
 * none, and Prometheus then shows an empty {@code # HELP} line, which {@code promtool check metrics}
 * reports ("no help text"). Every meter Courier exposes must explain itself on the scrape page.
 * Names are Micrometer's (dotted); a meter that already has a description keeps it.
 */
final class MeterDescriptions implements MeterFilter {
    // From micrometer-core's NettyAllocatorMetrics (1.17): the pooled.* meters appear only when the
    // allocator is a PooledByteBufAllocator (-Dio.netty.allocator.type=pooled).
    private static final Map<String, String> DESCRIPTIONS = Map.of(
            "netty.allocator.memory.used", "Memory held by the Netty buffer allocator, by memory type (heap, direct)",
            "netty.allocator.memory.pinned", "Memory of the Netty buffer allocator in use by buffers not yet released",
            "netty.allocator.pooled.arenas", "Arenas of the pooled Netty buffer allocator, by memory type",
            "netty.allocator.pooled.cache.size", "Size of the pooled Netty buffer allocator's caches, by cache type",
            "netty.allocator.pooled.threadlocal.caches", "Thread-local caches of the pooled Netty buffer allocator",
            "netty.allocator.pooled.chunk.size", "Chunk size of the pooled Netty buffer allocator");

    @Override
    public Meter.Id map(Meter.Id id) {
        String description = DESCRIPTIONS.get(id.getName());
        if (description == null
                || (id.getDescription() != null && !id.getDescription().isBlank())) {
            return id;
        }
        return new Meter.Id(id.getName(), Tags.of(id.getTagsAsIterable()), id.getBaseUnit(), description, id.getType());
    }
}
