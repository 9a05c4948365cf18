package io.courier.bench;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import org.HdrHistogram.Histogram;

/** The outcome of one run: printed for people, written as JSON for scripts. */
record Summary(LoadOptions options, String transport, Instant startedAt, Opened opened, Published published,
               double heldSeconds, long openAtEnd, long disconnectedEarly, Map<Integer, Long> closeCodes) {

    /** Opening the subscriber (or idle) connections. */
    record Opened(int requested, int connected, int failed, double seconds, String firstError, CpuSampler.Usage cpu) {
        double perSecond() {
            return seconds > 0 ? connected / seconds : 0;
        }
    }

    /**
     * The publishing phase of a fan-out run.
     *
     * @param publishSeconds first to last publish written
     * @param drainSeconds   last publish to the last delivery counted
     * @param expected       acked publishes × subscribers of their topic
     */
    record Published(long sent, long acked, long errors, String firstError, double publishSeconds, double drainSeconds,
                     long expected, long received, Histogram latencyMicros, CpuSampler.Usage cpu, PublisherHandler.Stalls stalls) {
        double publishesPerSecond() {
            return publishSeconds > 0 ? acked / publishSeconds : 0;
        }

        double deliveriesPerSecond() {
            double seconds = publishSeconds + drainSeconds;
            return seconds > 0 ? received / seconds : 0;
        }
    }

    void print(PrintStream out) {
        LoadOptions o = options;
        out.println("== courier-bench " + o.scenario() + " ==");
        if (published != null) {
            out.printf(Locale.ROOT, "setup:       %d subscribers, %d topic(s), %d B messages, %d s, rate %s, window %d, max lag %s, %s x%d, %s%n",
                    o.subscribers(), o.topics(), o.sizeBytes(), o.durationSeconds(), o.rate() == 0 ? "max" : o.rate() + "/s",
                    o.window(), o.maxLagMessages() == 0 ? "off" : o.maxLagMessages() + " msgs", transport, o.threads(), o.url());
        } else {
            out.printf(Locale.ROOT, "setup:       %d idle connections held %d s, %s x%d, %s%n", o.subscribers(), o.durationSeconds(),
                    transport, o.threads(), o.url());
        }
        out.printf(Locale.ROOT, "open:        %d/%d in %.2f s (%.0f/s), %d failed%s%n", opened.connected, opened.requested,
                opened.seconds, opened.perSecond(), opened.failed, opened.firstError == null ? "" : " (first: " + opened.firstError + ")");
        out.println("             " + cpu(opened.cpu));
        if (published != null) {
            Published p = published;
            out.printf(Locale.ROOT, "publish:     %d sent, %d acked, %d errors in %.2f s = %.0f publishes/s%s%n", p.sent, p.acked, p.errors,
                    p.publishSeconds, p.publishesPerSecond(), p.firstError == null ? "" : " (first error: " + p.firstError + ")");
            out.printf(Locale.ROOT, "held back:   %.2f s by the window, %.2f s by the lag bound, %.2f s by the rate%n",
                    p.stalls.windowFullSeconds(), p.stalls.lagBoundSeconds(), p.stalls.rateSeconds());
            out.printf(Locale.ROOT, "deliveries:  %d received / %d expected (%.3f%%), drain %.2f s%n", p.received, p.expected,
                    p.expected == 0 ? 0.0 : 100.0 * p.received / p.expected, p.drainSeconds);
            out.printf(Locale.ROOT, "throughput:  %.0f deliveries/s%n", p.deliveriesPerSecond());
            Histogram h = p.latencyMicros;
            out.printf(Locale.ROOT, "latency:     p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d samples, 1 in %d deliveries)%n",
                    h.getValueAtPercentile(50) / 1000.0, h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0,
                    h.getTotalCount(), o.sampleEvery());
            out.println("             " + cpu(p.cpu));
            long writes = p.cpu.serverWriteSyscalls();
            if (writes > 0) {
                out.printf(Locale.ROOT, "syscalls:    server %d write calls, %.1f deliveries each%n", writes, (double) p.received / writes);
            }
        } else {
            out.printf(Locale.ROOT, "held:        %d open after %.1f s%n", openAtEnd, heldSeconds);
        }
        out.printf("closed:      %d by the server before the end, close codes %s%n", disconnectedEarly, closeCodes);
    }

    private static String cpu(CpuSampler.Usage c) {
        return String.format(Locale.ROOT, "cpu cores: client %s (kernel %s), server %s (kernel %s), irq/softirq %s, other processes %s, steal %s"
                        + " over %.2f s (%d cores)",
                cores(c, c.clientCpuSeconds()), cores(c, c.clientSystemSeconds()), cores(c, c.serverCpuSeconds()),
                cores(c, c.serverSystemSeconds()), cores(c, c.irqCpuSeconds()), cores(c, c.otherCpuSeconds()),
                cores(c, c.stealCpuSeconds()), c.wallSeconds(), Runtime.getRuntime().availableProcessors());
    }

    private static String cores(CpuSampler.Usage c, double seconds) {
        double cores = c.cores(seconds);
        return cores < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", cores);
    }

    void writeJson(Path file) throws IOException {
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        try (JsonGenerator g = new JsonFactory().createGenerator(file.toFile(), JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            LoadOptions o = options;
            g.writeStartObject();
            g.writeStringField("scenario", o.scenario());
            g.writeStringField("startedAt", startedAt.toString());
            g.writeStringField("url", o.url().toString());
            g.writeStringField("audience", o.audience());
            g.writeStringField("transport", transport);
            g.writeNumberField("clientThreads", o.threads());
            g.writeNumberField("availableProcessors", Runtime.getRuntime().availableProcessors());
            g.writeStringField("javaVersion", System.getProperty("java.runtime.version"));
            g.writeNumberField("subscribers", o.subscribers());
            g.writeNumberField("topics", o.topics());
            g.writeNumberField("sizeBytes", o.sizeBytes());
            g.writeNumberField("durationSeconds", o.durationSeconds());
            g.writeNumberField("rate", o.rate());
            g.writeNumberField("window", o.window());
            g.writeNumberField("maxLagMessages", o.maxLagMessages());
            g.writeNumberField("sampleEvery", o.sampleEvery());
            g.writeNumberField("connected", opened.connected);
            g.writeNumberField("connectFailed", opened.failed);
            g.writeNumberField("connectSeconds", opened.seconds);
            g.writeNumberField("connectsPerSecond", opened.perSecond());
            g.writeNumberField("connectClientCpuSeconds", opened.cpu.clientCpuSeconds());
            g.writeNumberField("connectServerCpuSeconds", opened.cpu.serverCpuSeconds());
            g.writeNumberField("connectOtherCpuSeconds", opened.cpu.otherCpuSeconds());
            if (published != null) {
                Published p = published;
                g.writeNumberField("publishesSent", p.sent);
                g.writeNumberField("publishesAcked", p.acked);
                g.writeNumberField("publishErrors", p.errors);
                g.writeNumberField("publishSeconds", p.publishSeconds);
                g.writeNumberField("heldByWindowSeconds", p.stalls.windowFullSeconds());
                g.writeNumberField("heldByLagSeconds", p.stalls.lagBoundSeconds());
                g.writeNumberField("heldByRateSeconds", p.stalls.rateSeconds());
                g.writeNumberField("drainSeconds", p.drainSeconds);
                g.writeNumberField("publishesPerSecond", p.publishesPerSecond());
                g.writeNumberField("expectedDeliveries", p.expected);
                g.writeNumberField("receivedDeliveries", p.received);
                g.writeNumberField("deliveriesPerSecond", p.deliveriesPerSecond());
                g.writeNumberField("latencySamples", p.latencyMicros.getTotalCount());
                g.writeNumberField("latencyP50Micros", p.latencyMicros.getValueAtPercentile(50));
                g.writeNumberField("latencyP99Micros", p.latencyMicros.getValueAtPercentile(99));
                g.writeNumberField("latencyMaxMicros", p.latencyMicros.getMaxValue());
                g.writeNumberField("cpuWallSeconds", p.cpu.wallSeconds());
                g.writeNumberField("clientCpuSeconds", p.cpu.clientCpuSeconds());
                g.writeNumberField("clientSystemCpuSeconds", p.cpu.clientSystemSeconds());
                g.writeNumberField("serverCpuSeconds", p.cpu.serverCpuSeconds());
                g.writeNumberField("serverSystemCpuSeconds", p.cpu.serverSystemSeconds());
                g.writeNumberField("irqCpuSeconds", p.cpu.irqCpuSeconds());
                g.writeNumberField("otherCpuSeconds", p.cpu.otherCpuSeconds());
                g.writeNumberField("stealCpuSeconds", p.cpu.stealCpuSeconds());
                g.writeNumberField("serverWriteSyscalls", p.cpu.serverWriteSyscalls());
            } else {
                g.writeNumberField("heldSeconds", heldSeconds);
                g.writeNumberField("openAtEnd", openAtEnd);
            }
            g.writeNumberField("disconnectedEarly", disconnectedEarly);
            g.writeObjectFieldStart("closeCodes");
            for (Map.Entry<Integer, Long> e : closeCodes.entrySet()) {
                g.writeNumberField(e.getKey().toString(), e.getValue());
            }
            g.writeEndObject();
            g.writeEndObject();
        }
    }
}
