package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.HdrHistogram.Histogram;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The summary is one list of fields: the text and the JSON show the same ones. */
class SummaryTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    private static Histogram latency(long... micros) {
        Histogram h = new Histogram(3);
        for (long m : micros) {
            h.recordValue(m);
        }
        return h;
    }

    private static CpuSampler.Usage cpu() {
        return new CpuSampler.Usage(5.0, 3.0, 1.0, 6.0, 2.0, 9.5, 0.5, 0.0, 1234);
    }

    /** A fan-out run with every optional part: calibration, stall, hooks and probes. */
    static Summary fanout() {
        LoadOptions o = LoadOptions.parse(
                new String[] {
                    "--url",
                    "http://127.0.0.1:9",
                    "--secret",
                    SECRET,
                    "--label",
                    "fixture",
                    "--audience",
                    "bench.test",
                    "--threads",
                    "2",
                    "--slow-percent",
                    "1",
                    "--duration",
                    "20",
                    "--calibrate",
                    "2"
                },
                Map.of());
        PublisherHandler.Result r = new PublisherHandler.Result(
                0,
                new int[] {0},
                100,
                99,
                1,
                new long[] {99},
                0,
                2_000_000_000L,
                "{\"action\":\"error\"}",
                new PublisherHandler.Stalls(0.5, 0.25, 0.125));
        Timeline timeline = new Timeline();
        timeline.add(1.0, 1000, 10, latency(100, 200, 300), 999);
        Summary.Stall stall = new Summary.Stall(1, 6.5, 10, 9, 1.25, 2.5, latency(100), latency(2000), latency(300));
        Summary.Phase calibration = new Summary.Phase(
                "calibrating",
                0,
                List.of(r),
                2.0,
                0.5,
                9900,
                9900,
                latency(50),
                cpu(),
                List.of(),
                null,
                Summary.Rss.UNKNOWN);
        Summary.Phase measured = new Summary.Phase(
                "publishing",
                49.5,
                List.of(r),
                2.0,
                0.5,
                9900,
                9800,
                latency(100, 5000),
                cpu(),
                timeline.points(),
                stall,
                new Summary.Rss(100 << 10, 300 << 10, 250 << 10));
        return new Summary(
                o,
                "epoll",
                "courier",
                Instant.parse("2026-01-02T03:04:05Z"),
                new Summary.Opened(1000, 999, 1, 2.0, 1, "refused", cpu()),
                calibration,
                measured,
                new Summary.Probes(20, 990, latency(700), latency(900), 1),
                new Summary.Hooks(10, 9, 1),
                new Summary.Accounting(980, 3, 1, 2, 0, 1, 10, 4, 0),
                0,
                998,
                2,
                Map.of(1008, 2L),
                new ServerMetrics.Snapshot(true, 100, 1.5, 50 << 20, 4 << 20, 1000, 0),
                new ServerMetrics.Snapshot(true, 9900, 7.5, 130 << 20, 5 << 20, 998, 9));
    }

    /** An idle-connections run: no publishing, no /metrics. */
    static Summary connections() {
        LoadOptions o = LoadOptions.parse(
                new String[] {
                    "--url",
                    "http://127.0.0.1:9",
                    "--secret",
                    SECRET,
                    "--scenario",
                    "connections",
                    "--audience",
                    "bench.test",
                    "--threads",
                    "2"
                },
                Map.of());
        return new Summary(
                o,
                "nio",
                "courier",
                Instant.parse("2026-01-02T03:04:05Z"),
                new Summary.Opened(1000, 1000, 0, 2.0, 1, null, cpu()),
                null,
                null,
                null,
                null,
                null,
                30.0,
                1000,
                0,
                Map.of(),
                ServerMetrics.Snapshot.NONE,
                ServerMetrics.Snapshot.NONE);
    }

    static String text(Summary s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        s.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static List<String> jsonKeys(Path file) throws Exception {
        List<String> keys = new ArrayList<>();
        try (JsonParser p = new JsonFactory().createParser(file.toFile())) {
            p.nextToken();
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                keys.add(p.currentName());
                p.nextToken();
                p.skipChildren();
            }
        }
        return keys;
    }

    private static void assertOneFieldList(Summary summary, Path dir) throws Exception {
        List<String> keys = new ArrayList<>();
        StringBuilder printed = new StringBuilder();
        for (Summary.Line line : summary.lines()) {
            for (Summary.Field f : line.fields()) {
                if (f.key() != null) {
                    keys.add(f.value() instanceof Histogram ? f.key() + "Micros" : f.key());
                }
                if (line.label() != null && f.text() != null) {
                    printed.append(f.text());
                }
            }
        }
        Path json = dir.resolve("summary.json");
        summary.writeJson(json);
        assertEquals(keys, jsonKeys(json), "the JSON holds the fields' keys, each once, in their order");
        String text = text(summary);
        assertEquals(
                printed.toString(),
                text.lines()
                        .skip(1)
                        .map(l -> l.substring(Math.min(13, l.length())))
                        .reduce("", String::concat),
                "the text is the fields' texts after the labels");
    }

    @Test
    void aFanoutRunsTextAndJsonRenderTheSameFields(@TempDir Path dir) throws Exception {
        assertOneFieldList(fanout(), dir);
    }

    @Test
    void aConnectionsRunsTextAndJsonRenderTheSameFields(@TempDir Path dir) throws Exception {
        assertOneFieldList(connections(), dir);
    }

    @Test
    void printedLinesKeepTheirShape() {
        String text = text(fanout());
        assertTrue(
                text.startsWith(
                        "== courier-bench fixture ==\nsetup:       1000 subscribers, 1 topic(s), 1 publisher(s), 100 B messages, 20 s,"
                                + " rate 50% of the calibrated maximum, window 64, max lag 1000 msgs, target courier, epoll x2,"
                                + " http://127.0.0.1:9\n"),
                text);
        assertTrue(
                text.contains(
                        "\npublish:     100 sent, 99 acked, 1 errors in 2.00 s = 50 publishes/s (first error: {\"action\":\"error\"})\n"),
                text);
        assertTrue(text.contains("\ndeliveries:  9800 received / 9900 expected (98.990%), drain 0.50 s\n"), text);
        assertTrue(
                text.contains("\nfootprint:   612.245 µs cpu per delivery, rss 100 MiB at the start, peak 300 MiB,"
                        + " 250 MiB at the end\n"),
                text);
        assertTrue(
                text.contains(
                        "\nslow:        10 stopped reading 6.5 s in; the server cut off 9 of them, the first 1.3 s and the last 2.5 s"
                                + " after they stopped\n"),
                text);
        assertTrue(text.endsWith("\nclosed:      2 by the server before the end, close codes {1008=2}\n"), text);
        assertTrue(text(connections()).contains("\nheld:        1000 open after 30.0 s\nserver:      /metrics n/a\n"));
    }
}
