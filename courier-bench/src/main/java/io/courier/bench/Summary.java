package io.courier.bench;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.ToDoubleFunction;
import org.HdrHistogram.Histogram;

/** The outcome of one run: printed for people, written as JSON for scripts, drawn as SVG. */
record Summary(
        LoadOptions options,
        String transport,
        String target,
        Instant startedAt,
        Opened opened,
        Phase calibration,
        Phase measured,
        Probes probes,
        Hooks hooks,
        Accounting accounting,
        double heldSeconds,
        long openAtEnd,
        long disconnectedEarly,
        Map<Integer, Long> closeCodes,
        ServerMetrics.Snapshot serverBefore,
        ServerMetrics.Snapshot serverAfter) {

    private static final double[] PERCENTILES = {50, 90, 99, 99.9};

    /** Opening the subscriber (or idle) connections. */
    record Opened(
            int requested,
            int connected,
            int failed,
            double seconds,
            int sourceAddresses,
            String firstError,
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
    record Phase(
            String name,
            double rate,
            List<PublisherHandler.Result> results,
            double publishSeconds,
            double drainSeconds,
            long expected,
            long received,
            Histogram latencyMicros,
            CpuSampler.Usage cpu,
            List<Timeline.Point> timeline,
            Stall stall,
            Rss rss) {
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
            return results.stream()
                    .map(PublisherHandler.Result::firstError)
                    .filter(e -> e != null)
                    .findFirst()
                    .orElse(null);
        }

        double publishesPerSecond() {
            return publishSeconds > 0 ? acked() / publishSeconds : 0;
        }

        double deliveriesPerSecond() {
            double seconds = publishSeconds + drainSeconds;
            return seconds > 0 ? received / seconds : 0;
        }

        /** Server CPU per delivery counted by the subscribers, µs; -1 when unknown. */
        double serverCpuMicrosPerDelivery() {
            return cpu.serverCpuSeconds() < 0 || received == 0 ? -1 : cpu.serverCpuSeconds() * 1e6 / received;
        }

        double held(ToDoubleFunction<PublisherHandler.Stalls> by) {
            return results.stream()
                    .mapToDouble(r -> by.applyAsDouble(r.stalls()))
                    .sum();
        }
    }

    /**
     * When the slow subscribers stopped reading, how many of them the server cut off and when (seconds
     * after the stall, from its /metrics once a second; -1 when none), and the others' latency before the
     * stall, while stalled subscribers were still connected, and once all were cut off.
     */
    record Stall(
            long atNanos,
            double atSeconds,
            int stalled,
            long cutOff,
            double firstCutSeconds,
            double lastCutSeconds,
            Histogram beforeMicros,
            Histogram whileStalledMicros,
            Histogram afterCutMicros) {}

    /**
     * The server's resident set (VmRSS of /proc/PID/status, KiB) at the phase's start, its largest over
     * the phase (sampled every {@link PublishPhase#RSS_EVERY_MILLIS} ms) and at its end; -1 when unknown.
     */
    record Rss(long startKib, long peakKib, long endKib) {
        static final Rss UNKNOWN = new Rss(-1, -1, -1);
    }

    /** Hook broadcasts: calls due at the rate asked for, acknowledged (200) and failed. */
    record Hooks(long due, long acked, long failed) {}

    /** Single publishes timed to the last subscriber that read them. */
    record Probes(
            int sent, long subscribers, Histogram firstArrivalMicros, Histogram lastArrivalMicros, int incomplete) {}

    /**
     * Per subscriber and publisher, received against acknowledged, over the subscribers still open at
     * the end that kept reading; slow ones are counted apart.
     */
    record Accounting(
            long subscribersChecked,
            long missing,
            long extra,
            long outOfSequence,
            long unreadable,
            long closedEarly,
            long slowSkipped,
            long broadcastsMissing,
            long broadcastsExtra) {}

    /**
     * One figure of the summary, shown twice: {@code key} and {@code value} in the JSON (no key: text
     * only), {@code text} in the printed line (null: JSON only). A value is a number, a string, a
     * latency {@link Histogram} (JSON {@code <key>Micros}), close codes or the timeline.
     */
    record Field(String key, Object value, String text) {
        static Field json(String key, Object value) {
            return new Field(key, value, null);
        }

        static Field text(String text) {
            return new Field(null, null, text);
        }
    }

    /** A printed line: its label (null: JSON only) and its fields, in order. */
    record Line(String label, List<Field> fields) {
        Line(String label, Field... fields) {
            this(label, List.of(fields));
        }
    }

    /** The summary: every figure once, in the order of the printed lines. */
    List<Line> lines() {
        List<Line> lines = new ArrayList<>();
        LoadOptions o = options;
        lines.add(new Line(
                null,
                json("scenario", o.label()),
                json("mode", o.scenario()),
                json("startedAt", startedAt.toString()),
                json("audience", o.audience()),
                json("availableProcessors", Runtime.getRuntime().availableProcessors()),
                json("javaVersion", System.getProperty("java.runtime.version"))));
        lines.add(setup(o));
        if (measured != null && o.slowPercent() > 0) {
            lines.add(new Line(
                    "",
                    Field.text(format(
                            "%d%% of subscribers stop reading %d s in (SO_RCVBUF %d B)",
                            o.slowPercent(), o.slowAfterSeconds(), o.slowReceiveBufferBytes()))));
        }
        lines.add(new Line(
                "open",
                new Field("connected", opened.connected, String.valueOf(opened.connected)),
                Field.text("/" + opened.requested),
                new Field("connectSeconds", opened.seconds, format(" in %.2f s", opened.seconds)),
                new Field("connectsPerSecond", opened.perSecond(), format(" (%.0f/s)", opened.perSecond())),
                new Field(
                        "sourceAddresses",
                        opened.sourceAddresses,
                        format(" from %d source address(es)", opened.sourceAddresses)),
                new Field("connectFailed", opened.failed, format(", %d failed", opened.failed)),
                Field.text(opened.firstError == null ? "" : " (first: " + opened.firstError + ")"),
                json("connectClientCpuSeconds", opened.cpu.clientCpuSeconds()),
                json("connectServerCpuSeconds", opened.cpu.serverCpuSeconds()),
                json("connectOtherCpuSeconds", opened.cpu.otherCpuSeconds())));
        lines.add(new Line("", Field.text(cpu(opened.cpu))));
        if (calibration != null) {
            lines.add(new Line(
                    "calibrate",
                    new Field(
                            "calibratedPublishesPerSecond",
                            calibration.publishesPerSecond(),
                            format("%.0f publishes/s", calibration.publishesPerSecond())),
                    new Field(
                            "calibratedDeliveriesPerSecond",
                            calibration.deliveriesPerSecond(),
                            format(", %.0f deliveries/s at most", calibration.deliveriesPerSecond())),
                    Field.text(format(
                            " over %.1f s -> measuring at %.0f publishes/s",
                            calibration.publishSeconds, measured.rate))));
        }
        if (measured != null) {
            measured(lines, measured);
        }
        if (accounting != null) {
            Accounting a = accounting;
            lines.add(new Line(
                    "check",
                    new Field(
                            "subscribersChecked",
                            a.subscribersChecked,
                            a.subscribersChecked + " subscribers x publisher: "),
                    new Field("missingDeliveries", a.missing, a.missing + " missing"),
                    new Field("extraDeliveries", a.extra, ", " + a.extra + " extra"),
                    new Field("outOfSequence", a.outOfSequence, ", " + a.outOfSequence + " out of sequence"),
                    new Field("unreadable", a.unreadable, ", " + a.unreadable + " unreadable;"),
                    new Field("subscribersClosedEarly", a.closedEarly, " " + a.closedEarly + " closed early"),
                    new Field(
                            "slowNotChecked",
                            a.slowSkipped,
                            a.slowSkipped == 0 ? "" : "; " + a.slowSkipped + " slow subscribers not checked")));
        }
        if (hooks != null) {
            lines.add(new Line(
                    "hooks",
                    new Field("hookBroadcastsAcked", hooks.acked, hooks.acked + " broadcasts acknowledged"),
                    new Field("hookBroadcastsFailed", hooks.failed, ", " + hooks.failed + " failed"),
                    new Field("hookBroadcastsDue", hooks.due, ", " + hooks.due + " due; "),
                    new Field(
                            "hookBroadcastsMissing",
                            accounting.broadcastsMissing,
                            accounting.broadcastsMissing + " missing"),
                    new Field(
                            "hookBroadcastsExtra",
                            accounting.broadcastsExtra,
                            " and " + accounting.broadcastsExtra + " extra among the subscribers checked")));
        }
        if (probes != null) {
            lines.add(new Line(
                    "probes",
                    new Field("probes", probes.sent, probes.sent + " single publishes"),
                    Field.text(" to " + probes.subscribers + " subscribers"),
                    new Field(
                            "probeFirstArrival",
                            probes.firstArrivalMicros,
                            ": first one reached after p50 " + Load.millis(probes.firstArrivalMicros, 50)),
                    new Field(
                            "probeLastArrival",
                            probes.lastArrivalMicros,
                            "; last one after p50 " + Load.millis(probes.lastArrivalMicros, 50) + ", max "
                                    + Load.millis(probes.lastArrivalMicros, 100)),
                    new Field(
                            "probesIncomplete",
                            probes.incomplete,
                            probes.incomplete == 0 ? "" : " (" + probes.incomplete + " incomplete)")));
        }
        if (measured == null) {
            lines.add(new Line(
                    "held",
                    new Field("openAtEnd", openAtEnd, openAtEnd + " open"),
                    new Field("heldSeconds", heldSeconds, format(" after %.1f s", heldSeconds))));
        }
        lines.add(server());
        lines.add(new Line(
                "closed",
                new Field("disconnectedEarly", disconnectedEarly, disconnectedEarly + " by the server before the end"),
                new Field("closeCodes", closeCodes, ", close codes " + closeCodes)));
        return lines;
    }

    private Line setup(LoadOptions o) {
        Field transportAndUrl = new Field("transport", transport, ", " + transport);
        Field targetName = new Field("target", target, ", target " + target);
        Field threads = new Field("clientThreads", o.threads(), " x" + o.threads());
        Field url = new Field("url", o.url().toString(), ", " + o.url());
        List<Field> notPrinted = List.of(json("sampleEvery", o.sampleEvery()), json("slowPercent", o.slowPercent()));
        if (measured == null) {
            List<Field> fields = new ArrayList<>(List.of(
                    new Field("subscribers", o.subscribers(), o.subscribers() + " idle connections"),
                    new Field("durationSeconds", o.durationSeconds(), " held " + o.durationSeconds() + " s"),
                    targetName,
                    transportAndUrl,
                    threads,
                    url,
                    json("topics", o.topics()),
                    json("publishers", o.publishers()),
                    json("sizeBytes", o.sizeBytes()),
                    json("window", o.window()),
                    json("maxLagMessages", o.maxLagMessages())));
            fields.addAll(notPrinted);
            return new Line("setup", fields);
        }
        String rate = o.calibrateSeconds() > 0
                ? o.loadPercent() + "% of the calibrated maximum"
                : o.rate() == 0 ? "max" : o.rate() + "/s";
        List<Field> fields = new ArrayList<>(List.of(
                new Field("subscribers", o.subscribers(), o.subscribers() + " subscribers"),
                new Field("topics", o.topics(), ", " + o.topics() + " topic(s)"),
                new Field(
                        "historySize",
                        o.historySize(),
                        o.historySize() == 0 ? "" : " with history size " + o.historySize()),
                new Field("publishers", o.publishers(), ", " + o.publishers() + " publisher(s)"),
                new Field("sizeBytes", o.sizeBytes(), ", " + o.sizeBytes() + " B messages"),
                new Field("durationSeconds", o.durationSeconds(), ", " + o.durationSeconds() + " s"),
                Field.text(", rate " + rate),
                new Field("window", o.window(), ", window " + o.window()),
                new Field(
                        "maxLagMessages",
                        o.maxLagMessages(),
                        ", max lag " + (o.maxLagMessages() == 0 ? "off" : PublishPhase.lagMessages(o) + " msgs")),
                targetName,
                transportAndUrl,
                threads,
                url));
        if (o.subscriberUrls().size() > 1) {
            String spread = String.join(
                    ",", o.subscriberUrls().stream().map(URI::toString).toList());
            fields.add(new Field("subscriberUrls", spread, ", subscribers spread over " + spread));
        }
        fields.addAll(notPrinted);
        return new Line("setup", fields);
    }

    private void measured(List<Line> lines, Phase p) {
        lines.add(new Line(
                "publish",
                json("rate", p.rate),
                new Field("publishesSent", p.sent(), p.sent() + " sent"),
                new Field("publishesAcked", p.acked(), ", " + p.acked() + " acked"),
                new Field("publishErrors", p.errors(), ", " + p.errors() + " errors"),
                new Field("publishSeconds", p.publishSeconds, format(" in %.2f s", p.publishSeconds)),
                new Field(
                        "publishesPerSecond",
                        p.publishesPerSecond(),
                        format(" = %.0f publishes/s", p.publishesPerSecond())),
                Field.text(p.firstError() == null ? "" : " (first error: " + p.firstError() + ")")));
        double window = p.held(PublisherHandler.Stalls::windowFullSeconds);
        double lag = p.held(PublisherHandler.Stalls::lagBoundSeconds);
        double rate = p.held(PublisherHandler.Stalls::rateSeconds);
        lines.add(new Line(
                "held back",
                new Field("heldByWindowSeconds", window, format("%.2f s by the window", window)),
                new Field("heldByLagSeconds", lag, format(", %.2f s by the lag bound", lag)),
                new Field("heldByRateSeconds", rate, format(", %.2f s by the rate (summed over publishers)", rate))));
        lines.add(new Line(
                "deliveries",
                new Field("receivedDeliveries", p.received, p.received + " received"),
                new Field("expectedDeliveries", p.expected, " / " + p.expected + " expected"),
                Field.text(format(" (%.3f%%)", p.expected == 0 ? 0.0 : 100.0 * p.received / p.expected)),
                new Field("drainSeconds", p.drainSeconds, format(", drain %.2f s", p.drainSeconds))));
        lines.add(new Line(
                "throughput",
                new Field(
                        "deliveriesPerSecond",
                        p.deliveriesPerSecond(),
                        format("%.0f deliveries/s", p.deliveriesPerSecond()))));
        lines.add(new Line(
                "latency",
                new Field("latency", p.latencyMicros, percentiles(p.latencyMicros)),
                Field.text(format(
                        " (%d samples, 1 in %d deliveries%s)",
                        p.latencyMicros.getTotalCount(),
                        options.sampleEvery(),
                        p.rate > 0 ? ", from each publish's intended time" : ""))));
        CpuSampler.Usage c = p.cpu;
        lines.add(new Line(
                "",
                Field.text(cpu(c)),
                json("cpuWallSeconds", c.wallSeconds()),
                json("clientCpuSeconds", c.clientCpuSeconds()),
                json("clientSystemCpuSeconds", c.clientSystemSeconds()),
                json("serverCpuSeconds", c.serverCpuSeconds()),
                json("serverSystemCpuSeconds", c.serverSystemSeconds()),
                json("irqCpuSeconds", c.irqCpuSeconds()),
                json("otherCpuSeconds", c.otherCpuSeconds()),
                json("stealCpuSeconds", c.stealCpuSeconds()),
                json("serverWriteSyscalls", c.serverWriteSyscalls())));
        lines.add(new Line(
                "footprint",
                new Field(
                        "serverCpuMicrosPerDelivery",
                        p.serverCpuMicrosPerDelivery(),
                        p.serverCpuMicrosPerDelivery() < 0
                                ? "cpu per delivery n/a"
                                : format("%.3f µs cpu per delivery", p.serverCpuMicrosPerDelivery())),
                new Field(
                        "serverRssStartKiB",
                        p.rss.startKib(),
                        p.rss.startKib() < 0
                                ? ", rss n/a"
                                : format(", rss %.0f MiB at the start", p.rss.startKib() / 1024.0)),
                new Field(
                        "serverRssPeakKiB",
                        p.rss.peakKib(),
                        p.rss.peakKib() < 0 ? "" : format(", peak %.0f MiB", p.rss.peakKib() / 1024.0)),
                new Field(
                        "serverRssEndKiB",
                        p.rss.endKib(),
                        p.rss.endKib() < 0 ? "" : format(", %.0f MiB at the end", p.rss.endKib() / 1024.0))));
        if (c.serverWriteSyscalls() > 0) {
            lines.add(new Line(
                    "syscalls",
                    Field.text("server " + c.serverWriteSyscalls()
                            + " writev calls (multi-frame flushes; single-frame sends are not counted)")));
        }
        if (p.stall != null) {
            Stall st = p.stall;
            lines.add(new Line(
                    "slow",
                    new Field("stalled", st.stalled, st.stalled + " stopped reading"),
                    new Field("stalledAtSeconds", st.atSeconds, format(" %.1f s in", st.atSeconds)),
                    new Field("slowCutOff", st.cutOff, "; the server cut off " + st.cutOff + " of them, "),
                    new Field(
                            "slowFirstCutAfterSeconds",
                            st.firstCutSeconds,
                            st.cutOff == 0 ? "none before the end" : format("the first %.1f s", st.firstCutSeconds)),
                    new Field(
                            "slowLastCutAfterSeconds",
                            st.lastCutSeconds,
                            st.cutOff == 0
                                    ? ""
                                    : format(" and the last %.1f s after they stopped", st.lastCutSeconds))));
            lines.add(new Line(
                    "  before",
                    new Field(
                            "latencyBeforeStall",
                            st.beforeMicros,
                            percentiles(st.beforeMicros) + " (the others' latency)")));
            lines.add(new Line(
                    "  stalled",
                    new Field(
                            "latencyWhileStalled",
                            st.whileStalledMicros,
                            percentiles(st.whileStalledMicros) + " (until the last was cut off)")));
            lines.add(new Line(
                    "  after", new Field("latencyAfterCut", st.afterCutMicros, percentiles(st.afterCutMicros))));
        }
        lines.add(new Line(null, json("timeline", p.timeline)));
    }

    private Line server() {
        if (!serverBefore.ok() || !serverAfter.ok()) {
            return new Line("server", Field.text("/metrics n/a"));
        }
        ServerMetrics.Snapshot b = serverBefore;
        ServerMetrics.Snapshot a = serverAfter;
        double deliveries = ServerMetrics.Snapshot.delta(b.deliveries(), a.deliveries());
        double cpuSeconds = ServerMetrics.Snapshot.delta(b.cpuSeconds(), a.cpuSeconds());
        double slowCloses = ServerMetrics.Snapshot.delta(b.slowConsumerCloses(), a.slowConsumerCloses());
        return new Line(
                "server",
                new Field(
                        "serverDeliveriesCounted", deliveries, format("/metrics: %.0f deliveries counted", deliveries)),
                new Field("serverCpuSecondsFromMetrics", cpuSeconds, format(", %.1f s CPU", cpuSeconds)),
                new Field(
                        "serverHeapUsedBeforeBytes",
                        b.heapUsedBytes(),
                        format(", heap %.0f", b.heapUsedBytes() / 1048576)),
                new Field(
                        "serverHeapUsedAfterBytes",
                        a.heapUsedBytes(),
                        format(" -> %.0f MiB", a.heapUsedBytes() / 1048576)),
                new Field(
                        "serverDirectUsedBeforeBytes",
                        b.directUsedBytes(),
                        format(", Netty direct %.0f", b.directUsedBytes() / 1048576)),
                new Field(
                        "serverDirectUsedAfterBytes",
                        a.directUsedBytes(),
                        format(" -> %.0f MiB", a.directUsedBytes() / 1048576)),
                new Field("serverSlowConsumerCloses", slowCloses, format(", %.0f slow-consumer closes", slowCloses)),
                Field.text(format(", %.0f connections at the end", a.connections())));
    }

    private static Field json(String key, Object value) {
        return Field.json(key, value);
    }

    private static String format(String format, Object... args) {
        return String.format(Locale.ROOT, format, args);
    }

    void print(PrintStream out) {
        out.println("== courier-bench " + options.label() + " ==");
        for (Line line : lines()) {
            if (line.label() == null) {
                continue;
            }
            StringBuilder s = new StringBuilder(line.label().isEmpty() ? "" : line.label() + ":");
            while (s.length() < 13) {
                s.append(' ');
            }
            for (Field f : line.fields()) {
                if (f.text() != null) {
                    s.append(f.text());
                }
            }
            out.println(s);
        }
    }

    private static String percentiles(Histogram h) {
        if (h.getTotalCount() == 0) {
            return "no samples";
        }
        StringBuilder s = new StringBuilder();
        for (double p : PERCENTILES) {
            s.append(String.format(
                    Locale.ROOT,
                    "p%s %.2f ms, ",
                    p == Math.rint(p) ? String.valueOf((int) p) : String.valueOf(p),
                    h.getValueAtPercentile(p) / 1000.0));
        }
        return s.append(String.format(Locale.ROOT, "max %.2f ms", h.getMaxValue() / 1000.0))
                .toString();
    }

    private static String cpu(CpuSampler.Usage c) {
        return String.format(
                Locale.ROOT,
                "cpu cores: client %s (kernel %s), server %s (kernel %s), irq/softirq %s, other processes %s, steal %s"
                        + " over %.2f s (%d cores)",
                cores(c, c.clientCpuSeconds()),
                cores(c, c.clientSystemSeconds()),
                cores(c, c.serverCpuSeconds()),
                cores(c, c.serverSystemSeconds()),
                cores(c, c.irqCpuSeconds()),
                cores(c, c.otherCpuSeconds()),
                cores(c, c.stealCpuSeconds()),
                c.wallSeconds(),
                Runtime.getRuntime().availableProcessors());
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
        String title = String.format(
                Locale.ROOT,
                "courier-bench %s: %d subscribers, %d topic(s), %d B, %s",
                options.label(),
                options.subscribers(),
                options.topics(),
                options.sizeBytes(),
                measured.rate > 0
                        ? String.format(Locale.ROOT, "%.0f publishes/s offered", measured.rate)
                        : "as fast as possible");
        Files.writeString(svg, Plot.svg(title, measured.timeline));
        return Optional.of(svg);
    }

    void writeJson(Path file) throws IOException {
        if (file.toAbsolutePath().getParent() != null) {
            Files.createDirectories(file.toAbsolutePath().getParent());
        }
        try (JsonGenerator g = new JsonFactory().createGenerator(file.toFile(), JsonEncoding.UTF8)) {
            g.useDefaultPrettyPrinter();
            g.writeStartObject();
            for (Line line : lines()) {
                for (Field f : line.fields()) {
                    if (f.key() != null) {
                        writeValue(g, f.key(), f.value());
                    }
                }
            }
            g.writeEndObject();
        }
    }

    private static void writeValue(JsonGenerator g, String key, Object value) throws IOException {
        if (value instanceof Histogram h) {
            writeLatency(g, key, h);
        } else if (value instanceof String s) {
            g.writeStringField(key, s);
        } else if (value instanceof Integer n) {
            g.writeNumberField(key, n);
        } else if (value instanceof Long n) {
            g.writeNumberField(key, n);
        } else if (value instanceof Double n) {
            g.writeNumberField(key, n);
        } else if (value instanceof Map<?, ?> codes) {
            g.writeObjectFieldStart(key);
            for (Map.Entry<?, ?> e : codes.entrySet()) {
                g.writeNumberField(e.getKey().toString(), (Long) e.getValue());
            }
            g.writeEndObject();
        } else if (value instanceof List<?> timeline) {
            g.writeArrayFieldStart(key);
            for (Object o : timeline) {
                Timeline.Point t = (Timeline.Point) o;
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
            throw new IllegalArgumentException(
                    key + ": " + value + " (expected: a number, string, histogram, close codes or timeline)");
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
}
