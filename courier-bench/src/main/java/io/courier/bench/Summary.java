package io.courier.bench;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.HdrHistogram.Histogram;

/** The outcome of one run: printed for people, written as JSON for scripts, drawn as SVG. */
record Summary(LoadOptions options, String transport, Instant startedAt, Opened opened, Phase calibration, Phase measured,
               Probes probes, Hooks hooks, Accounting accounting, double heldSeconds, long openAtEnd, long disconnectedEarly,
               Map<Integer, Long> closeCodes, ServerMetrics.Snapshot serverBefore, ServerMetrics.Snapshot serverAfter) {

    private static final double[] PERCENTILES = {50, 90, 99, 99.9};

    /** Opening the subscriber (or idle) connections. */
    record Opened(int requested, int connected, int failed, double seconds, int sourceAddresses, String firstError,
                  CpuSampler.Usage cpu) {
        double perSecond() {
            return seconds > 0 ? connected / seconds : 0;
        }
    }

    /**
     * One publishing phase of a fan-out run.
     *
     * @param rate           publishes/s offered in total, 0 when as fast as possible
     * @param publishSeconds first to last publish written
     * @param drainSeconds   last publish to the last delivery counted
     * @param expected       deliveries the publishers' writes call for, to the subscribers that keep reading
     * @param received       deliveries those subscribers counted during the phase
     */
    record Phase(String name, double rate, List<PublisherHandler.Result> results, double publishSeconds, double drainSeconds,
                 long expected, long received, Histogram latencyMicros, CpuSampler.Usage cpu, List<Timeline.Point> timeline,
                 Stall stall) {
        long sent() {
            return results.stream().mapToLong(PublisherHandler.Result::sent).sum();
        }

        long acked() {
            return results.stream().mapToLong(PublisherHandler.Result::acked).sum();
        }

        long errors() {
            return results.stream().mapToLong(PublisherHandler.Result::errors).sum();
        }

        String firstError() {
            return results.stream().map(PublisherHandler.Result::firstError).filter(e -> e != null).findFirst().orElse(null);
        }

        double publishesPerSecond() {
            return publishSeconds > 0 ? acked() / publishSeconds : 0;
        }

        double deliveriesPerSecond() {
            double seconds = publishSeconds + drainSeconds;
            return seconds > 0 ? received / seconds : 0;
        }

        double held(java.util.function.ToDoubleFunction<PublisherHandler.Stalls> by) {
            return results.stream().mapToDouble(r -> by.applyAsDouble(r.stalls())).sum();
        }
    }

    /**
     * When the slow subscribers stopped reading, how many of them the server cut off and when (seconds
     * after the stall, from its /metrics once a second; -1 when none), and the others' latency before the
     * stall, while stalled subscribers were still connected, and once all were cut off.
     */
    record Stall(long atNanos, double atSeconds, int stalled, long cutOff, double firstCutSeconds, double lastCutSeconds,
                 Histogram beforeMicros, Histogram whileStalledMicros, Histogram afterCutMicros) {
    }

    /** Hook broadcasts: calls due at the rate asked for, acknowledged (200) and failed. */
    record Hooks(long due, long acked, long failed) {
    }

    /** Single publishes timed to the last subscriber that read them. */
    record Probes(int sent, long subscribers, Histogram firstArrivalMicros, Histogram lastArrivalMicros, int incomplete) {
    }

    /**
     * Per subscriber and publisher, received against acknowledged, over the subscribers still open at
     * the end that kept reading; slow ones are counted apart.
     */
    record Accounting(long subscribersChecked, long missing, long extra, long outOfSequence, long unreadable, long closedEarly,
                      long slowSkipped, long broadcastsMissing, long broadcastsExtra) {
    }

    void print(PrintStream out) {
        LoadOptions o = options;
        out.println("== courier-bench " + o.label() + " ==");
        if (measured != null) {
            out.printf(Locale.ROOT, "setup:       %d subscribers, %d topic(s), %d publisher(s), %d B messages, %d s, rate %s, window %d, max lag %s,"
                            + " %s x%d, %s%n", o.subscribers(), o.topics(), o.publishers(), o.sizeBytes(), o.durationSeconds(),
                    o.calibrateSeconds() > 0 ? o.loadPercent() + "% of the calibrated maximum" : o.rate() == 0 ? "max" : o.rate() + "/s",
                    o.window(), o.maxLagMessages() == 0 ? "off" : Load.lagMessages(o) + " msgs", transport, o.threads(), o.url());
            if (o.slowPercent() > 0) {
                out.printf(Locale.ROOT, "             %d%% of subscribers stop reading %d s in (SO_RCVBUF %d B)%n", o.slowPercent(),
                        o.slowAfterSeconds(), o.slowReceiveBufferBytes());
            }
        } else {
            out.printf(Locale.ROOT, "setup:       %d idle connections held %d s, %s x%d, %s%n", o.subscribers(), o.durationSeconds(),
                    transport, o.threads(), o.url());
        }
        out.printf(Locale.ROOT, "open:        %d/%d in %.2f s (%.0f/s) from %d source address(es), %d failed%s%n", opened.connected,
                opened.requested, opened.seconds, opened.perSecond(), opened.sourceAddresses, opened.failed,
                opened.firstError == null ? "" : " (first: " + opened.firstError + ")");
        out.println("             " + cpu(opened.cpu));
        if (calibration != null) {
            out.printf(Locale.ROOT, "calibrate:   %.0f publishes/s, %.0f deliveries/s at most over %.1f s -> measuring at %.0f publishes/s%n",
                    calibration.publishesPerSecond(), calibration.deliveriesPerSecond(), calibration.publishSeconds, measured.rate);
        }
        if (measured != null) {
            Phase p = measured;
            out.printf(Locale.ROOT, "publish:     %d sent, %d acked, %d errors in %.2f s = %.0f publishes/s%s%n", p.sent(), p.acked(),
                    p.errors(), p.publishSeconds, p.publishesPerSecond(), p.firstError() == null ? "" : " (first error: " + p.firstError() + ")");
            out.printf(Locale.ROOT, "held back:   %.2f s by the window, %.2f s by the lag bound, %.2f s by the rate (summed over publishers)%n",
                    p.held(PublisherHandler.Stalls::windowFullSeconds), p.held(PublisherHandler.Stalls::lagBoundSeconds),
                    p.held(PublisherHandler.Stalls::rateSeconds));
            out.printf(Locale.ROOT, "deliveries:  %d received / %d expected (%.3f%%), drain %.2f s%n", p.received, p.expected,
                    p.expected == 0 ? 0.0 : 100.0 * p.received / p.expected, p.drainSeconds);
            out.printf(Locale.ROOT, "throughput:  %.0f deliveries/s%n", p.deliveriesPerSecond());
            out.println("latency:     " + percentiles(p.latencyMicros) + String.format(Locale.ROOT, " (%d samples, 1 in %d deliveries%s)",
                    p.latencyMicros.getTotalCount(), o.sampleEvery(), p.rate > 0 ? ", from each publish's intended time" : ""));
            out.println("             " + cpu(p.cpu));
            long writes = p.cpu.serverWriteSyscalls();
            if (writes > 0) {
                out.printf(Locale.ROOT, "syscalls:    server %d writev calls (multi-frame flushes; single-frame sends are not counted)%n", writes);
            }
            if (p.stall != null) {
                Stall st = p.stall;
                out.printf(Locale.ROOT, "slow:        %d stopped reading %.1f s in; the server cut off %d of them, %s%n", st.stalled, st.atSeconds,
                        st.cutOff, st.cutOff == 0 ? "none before the end"
                                : String.format(Locale.ROOT, "the first %.1f s and the last %.1f s after they stopped", st.firstCutSeconds,
                                st.lastCutSeconds));
                out.println("  before:    " + percentiles(st.beforeMicros) + " (the others' latency)");
                out.println("  stalled:   " + percentiles(st.whileStalledMicros) + " (until the last was cut off)");
                out.println("  after:     " + percentiles(st.afterCutMicros));
            }
        }
        if (accounting != null) {
            Accounting a = accounting;
            out.printf(Locale.ROOT, "check:       %d subscribers x publisher: %d missing, %d extra, %d out of sequence, %d unreadable;"
                    + " %d closed early%s%n", a.subscribersChecked, a.missing, a.extra, a.outOfSequence, a.unreadable, a.closedEarly,
                    a.slowSkipped == 0 ? "" : "; " + a.slowSkipped + " slow subscribers not checked");
        }
        if (hooks != null) {
            out.printf(Locale.ROOT, "hooks:       %d broadcasts acknowledged, %d failed, %d due; %d missing and %d extra among the subscribers checked%n",
                    hooks.acked, hooks.failed, hooks.due, accounting.broadcastsMissing, accounting.broadcastsExtra);
        }
        if (probes != null) {
            out.printf(Locale.ROOT, "probes:      %d single publishes to %d subscribers: first one reached after p50 %s; last one after p50 %s,"
                            + " max %s%s%n", probes.sent, probes.subscribers, Load.millis(probes.firstArrivalMicros, 50),
                    Load.millis(probes.lastArrivalMicros, 50), Load.millis(probes.lastArrivalMicros, 100),
                    probes.incomplete == 0 ? "" : " (" + probes.incomplete + " incomplete)");
        }
        if (measured == null) {
            out.printf(Locale.ROOT, "held:        %d open after %.1f s%n", openAtEnd, heldSeconds);
        }
        out.println("server:      " + server());
        out.printf("closed:      %d by the server before the end, close codes %s%n", disconnectedEarly, closeCodes);
    }

    private String server() {
        if (!serverBefore.ok() || !serverAfter.ok()) {
            return "/metrics n/a";
        }
        ServerMetrics.Snapshot b = serverBefore;
        ServerMetrics.Snapshot a = serverAfter;
        return String.format(Locale.ROOT, "/metrics: %.0f deliveries counted, %.1f s CPU, heap %.0f -> %.0f MiB, Netty direct %.0f -> %.0f MiB,"
                        + " %.0f slow-consumer closes, %.0f connections at the end",
                ServerMetrics.Snapshot.delta(b.deliveries(), a.deliveries()), ServerMetrics.Snapshot.delta(b.cpuSeconds(), a.cpuSeconds()),
                b.heapUsedBytes() / 1048576, a.heapUsedBytes() / 1048576, b.directUsedBytes() / 1048576, a.directUsedBytes() / 1048576,
                ServerMetrics.Snapshot.delta(b.slowConsumerCloses(), a.slowConsumerCloses()), a.connections());
    }

    private static String percentiles(Histogram h) {
        if (h.getTotalCount() == 0) {
            return "no samples";
        }
        StringBuilder s = new StringBuilder();
        for (double p : PERCENTILES) {
            s.append(String.format(Locale.ROOT, "p%s %.2f ms, ", p == Math.rint(p) ? String.valueOf((int) p) : String.valueOf(p),
                    h.getValueAtPercentile(p) / 1000.0));
        }
        return s.append(String.format(Locale.ROOT, "max %.2f ms", h.getMaxValue() / 1000.0)).toString();
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

    /** Writes the timeline of the measured phase as {@code <json name>.svg} next to the JSON; empty when there is none. */
    Optional<Path> writePlot(Path json) throws IOException {
        if (measured == null || measured.timeline.isEmpty()) {
            return Optional.empty();
        }
        String name = json.getFileName().toString().replaceFirst("\\.json$", "") + ".svg";
        Path svg = json.resolveSibling(name);
        String title = String.format(Locale.ROOT, "courier-bench %s: %d subscribers, %d topic(s), %d B, %s", options.label(),
                options.subscribers(), options.topics(), options.sizeBytes(),
                measured.rate > 0 ? String.format(Locale.ROOT, "%.0f publishes/s offered", measured.rate) : "as fast as possible");
        Files.writeString(svg, Plot.svg(title, measured.timeline));
        return Optional.of(svg);
    }

    void writeJson(Path file) throws IOException {
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        try (JsonGenerator g = new JsonFactory().createGenerator(file.toFile(), JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            LoadOptions o = options;
            g.writeStartObject();
            g.writeStringField("scenario", o.label());
            g.writeStringField("mode", o.scenario());
            g.writeStringField("startedAt", startedAt.toString());
            g.writeStringField("url", o.url().toString());
            g.writeStringField("audience", o.audience());
            g.writeStringField("transport", transport);
            g.writeNumberField("clientThreads", o.threads());
            g.writeNumberField("availableProcessors", Runtime.getRuntime().availableProcessors());
            g.writeStringField("javaVersion", System.getProperty("java.runtime.version"));
            g.writeNumberField("subscribers", o.subscribers());
            g.writeNumberField("topics", o.topics());
            g.writeNumberField("publishers", o.publishers());
            g.writeNumberField("sizeBytes", o.sizeBytes());
            g.writeNumberField("durationSeconds", o.durationSeconds());
            g.writeNumberField("window", o.window());
            g.writeNumberField("maxLagMessages", o.maxLagMessages());
            g.writeNumberField("sampleEvery", o.sampleEvery());
            g.writeNumberField("slowPercent", o.slowPercent());
            g.writeNumberField("connected", opened.connected);
            g.writeNumberField("connectFailed", opened.failed);
            g.writeNumberField("connectSeconds", opened.seconds);
            g.writeNumberField("connectsPerSecond", opened.perSecond());
            g.writeNumberField("sourceAddresses", opened.sourceAddresses);
            g.writeNumberField("connectClientCpuSeconds", opened.cpu.clientCpuSeconds());
            g.writeNumberField("connectServerCpuSeconds", opened.cpu.serverCpuSeconds());
            g.writeNumberField("connectOtherCpuSeconds", opened.cpu.otherCpuSeconds());
            if (calibration != null) {
                g.writeNumberField("calibratedPublishesPerSecond", calibration.publishesPerSecond());
                g.writeNumberField("calibratedDeliveriesPerSecond", calibration.deliveriesPerSecond());
            }
            if (measured != null) {
                Phase p = measured;
                g.writeNumberField("rate", p.rate);
                g.writeNumberField("publishesSent", p.sent());
                g.writeNumberField("publishesAcked", p.acked());
                g.writeNumberField("publishErrors", p.errors());
                g.writeNumberField("publishSeconds", p.publishSeconds);
                g.writeNumberField("heldByWindowSeconds", p.held(PublisherHandler.Stalls::windowFullSeconds));
                g.writeNumberField("heldByLagSeconds", p.held(PublisherHandler.Stalls::lagBoundSeconds));
                g.writeNumberField("heldByRateSeconds", p.held(PublisherHandler.Stalls::rateSeconds));
                g.writeNumberField("drainSeconds", p.drainSeconds);
                g.writeNumberField("publishesPerSecond", p.publishesPerSecond());
                g.writeNumberField("expectedDeliveries", p.expected);
                g.writeNumberField("receivedDeliveries", p.received);
                g.writeNumberField("deliveriesPerSecond", p.deliveriesPerSecond());
                writeLatency(g, "latency", p.latencyMicros);
                writeCpu(g, p.cpu);
                if (p.stall != null) {
                    g.writeNumberField("stalledAtSeconds", p.stall.atSeconds);
                    g.writeNumberField("stalled", p.stall.stalled);
                    g.writeNumberField("slowCutOff", p.stall.cutOff);
                    g.writeNumberField("slowFirstCutAfterSeconds", p.stall.firstCutSeconds);
                    g.writeNumberField("slowLastCutAfterSeconds", p.stall.lastCutSeconds);
                    writeLatency(g, "latencyBeforeStall", p.stall.beforeMicros);
                    writeLatency(g, "latencyWhileStalled", p.stall.whileStalledMicros);
                    writeLatency(g, "latencyAfterCut", p.stall.afterCutMicros);
                }
                g.writeArrayFieldStart("timeline");
                for (Timeline.Point t : p.timeline) {
                    g.writeStartObject();
                    g.writeNumberField("seconds", t.seconds());
                    g.writeNumberField("deliveriesPerSecond", t.deliveriesPerSecond());
                    g.writeNumberField("publishesPerSecond", t.publishesPerSecond());
                    g.writeNumberField("p50Micros", t.p50());
                    g.writeNumberField("p90Micros", t.p90());
                    g.writeNumberField("p99Micros", t.p99());
                    g.writeNumberField("p999Micros", t.p999());
                    g.writeNumberField("maxMicros", t.max());
                    g.writeNumberField("samples", t.samples());
                    g.writeNumberField("open", t.open());
                    g.writeEndObject();
                }
                g.writeEndArray();
            } else {
                g.writeNumberField("heldSeconds", heldSeconds);
                g.writeNumberField("openAtEnd", openAtEnd);
            }
            if (accounting != null) {
                Accounting a = accounting;
                g.writeNumberField("subscribersChecked", a.subscribersChecked);
                g.writeNumberField("missingDeliveries", a.missing);
                g.writeNumberField("extraDeliveries", a.extra);
                g.writeNumberField("outOfSequence", a.outOfSequence);
                g.writeNumberField("unreadable", a.unreadable);
                g.writeNumberField("subscribersClosedEarly", a.closedEarly);
                g.writeNumberField("slowNotChecked", a.slowSkipped);
            }
            if (hooks != null) {
                g.writeNumberField("hookBroadcastsDue", hooks.due);
                g.writeNumberField("hookBroadcastsAcked", hooks.acked);
                g.writeNumberField("hookBroadcastsFailed", hooks.failed);
                g.writeNumberField("hookBroadcastsMissing", accounting.broadcastsMissing);
                g.writeNumberField("hookBroadcastsExtra", accounting.broadcastsExtra);
            }
            if (probes != null) {
                g.writeNumberField("probes", probes.sent);
                g.writeNumberField("probesIncomplete", probes.incomplete);
                writeLatency(g, "probeFirstArrival", probes.firstArrivalMicros);
                writeLatency(g, "probeLastArrival", probes.lastArrivalMicros);
            }
            if (serverBefore.ok() && serverAfter.ok()) {
                g.writeNumberField("serverDeliveriesCounted", ServerMetrics.Snapshot.delta(serverBefore.deliveries(), serverAfter.deliveries()));
                g.writeNumberField("serverCpuSecondsFromMetrics", ServerMetrics.Snapshot.delta(serverBefore.cpuSeconds(), serverAfter.cpuSeconds()));
                g.writeNumberField("serverHeapUsedBeforeBytes", serverBefore.heapUsedBytes());
                g.writeNumberField("serverHeapUsedAfterBytes", serverAfter.heapUsedBytes());
                g.writeNumberField("serverDirectUsedBeforeBytes", serverBefore.directUsedBytes());
                g.writeNumberField("serverDirectUsedAfterBytes", serverAfter.directUsedBytes());
                g.writeNumberField("serverSlowConsumerCloses",
                        ServerMetrics.Snapshot.delta(serverBefore.slowConsumerCloses(), serverAfter.slowConsumerCloses()));
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

    private static void writeLatency(JsonGenerator g, String name, Histogram h) throws IOException {
        g.writeObjectFieldStart(name + "Micros");
        g.writeNumberField("samples", h.getTotalCount());
        if (h.getTotalCount() > 0) {
            g.writeNumberField("p50", h.getValueAtPercentile(50));
            g.writeNumberField("p90", h.getValueAtPercentile(90));
            g.writeNumberField("p99", h.getValueAtPercentile(99));
            g.writeNumberField("p999", h.getValueAtPercentile(99.9));
            g.writeNumberField("max", h.getMaxValue());
        }
        g.writeEndObject();
    }

    private static void writeCpu(JsonGenerator g, CpuSampler.Usage c) throws IOException {
        g.writeNumberField("cpuWallSeconds", c.wallSeconds());
        g.writeNumberField("clientCpuSeconds", c.clientCpuSeconds());
        g.writeNumberField("clientSystemCpuSeconds", c.clientSystemSeconds());
        g.writeNumberField("serverCpuSeconds", c.serverCpuSeconds());
        g.writeNumberField("serverSystemCpuSeconds", c.serverSystemSeconds());
        g.writeNumberField("irqCpuSeconds", c.irqCpuSeconds());
        g.writeNumberField("otherCpuSeconds", c.otherCpuSeconds());
        g.writeNumberField("stealCpuSeconds", c.stealCpuSeconds());
        g.writeNumberField("serverWriteSyscalls", c.serverWriteSyscalls());
    }
}
