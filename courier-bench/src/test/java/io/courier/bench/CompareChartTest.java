package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.bench.CompareChart.Scenario;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;
import org.xml.sax.InputSource;

/**
 * The chart reads a compare directory's run files as {@code scripts/bench compare} names them, takes
 * each target's medians of one mode, and draws their ratios to NATS.
 */
class CompareChartTest {
    /** Writes {@code TARGET-MODE-ROUND.json} for each run, with the keys the client's summary has. */
    private static void runs(
            Path dir, String target, String mode, double[] perSecond, long[] p99Micros, double[] cpuMicros, long rssKib)
            throws Exception {
        Files.createDirectories(dir);
        for (int i = 0; i < perSecond.length; i++) {
            Files.writeString(
                    dir.resolve(target + "-" + mode + "-" + (i + 1) + ".json"),
                    "{\"label\":\"x-" + target + "\",\"scenario\":\"x-" + target + "\",\"mode\":\"fanout\","
                            + "\"deliveriesPerSecond\":" + perSecond[i]
                            + ",\"latencyMicros\":{\"samples\":10,\"p50\":1000,\"p99\":" + p99Micros[i] + "},"
                            + "\"timeline\":[{\"seconds\":1.0}],\"serverCpuMicrosPerDelivery\":" + cpuMicros[i] + ","
                            + "\"serverRssPeakKiB\":" + rssKib + ",\"missingDeliveries\":0,\"unreadable\":0,"
                            + "\"disconnectedEarly\":0,\"closeCodes\":{},\"cpuWallSeconds\":10.0,"
                            + "\"otherCpuSeconds\":1.0}");
        }
    }

    /**
     * fanout-1k-50k, shared: throughput medians courier 1000, before 500, nats 2000; p99 courier 40 ms,
     * before 10 ms, nats 20 ms; CPU courier 0.6, before 1.2, nats 0.3 µs; RSS 1024, 2048, 512 KiB. Its
     * pinned runs differ everywhere, so a ratio that mixed the modes would show.
     */
    private static Path withBefore(Path root) throws Exception {
        Path dir = root.resolve("compare-fanout-1k-50k-20261130T080000Z");
        runs(
                dir,
                "courier",
                "shared",
                new double[] {900, 5000, 1000},
                new long[] {40_000, 39_000, 90_000},
                new double[] {0.6, 0.5, 0.7},
                1024);
        runs(
                dir,
                "before",
                "shared",
                new double[] {400, 500, 600},
                new long[] {10_000, 10_000, 10_000},
                new double[] {1.2, 1.2, 1.3},
                2048);
        runs(
                dir,
                "nats",
                "shared",
                new double[] {2100, 2000, 1900},
                new long[] {20_000, 25_000, 15_000},
                new double[] {0.3, 0.2, 0.4},
                512);
        runs(dir, "courier", "pinned", new double[] {7}, new long[] {7}, new double[] {7}, 7);
        runs(dir, "nats", "pinned", new double[] {1}, new long[] {1}, new double[] {1}, 1);
        Files.writeString(dir.resolve("table.md"), "\nfanout-1k-50k (10 s per run), shared cores\n");
        return dir;
    }

    /** topics, shared: courier and nats only, 3 runs each; courier's throughput median is 12 × nats's. */
    private static Path withoutBefore(Path root) throws Exception {
        Path dir = root.resolve("compare-topics-20261130T081500Z");
        runs(
                dir,
                "courier",
                "shared",
                new double[] {1200, 1100, 1300},
                new long[] {30_000, 30_000, 30_000},
                new double[] {1.0, 1.0, 1.0},
                4096);
        runs(
                dir,
                "nats",
                "shared",
                new double[] {100, 100, 100},
                new long[] {10_000, 10_000, 10_000},
                new double[] {2.0, 2.0, 2.0},
                1024);
        return dir;
    }

    private static CompareTable.Figure figure(String key) {
        return CompareChart.PANELS.stream()
                .map(CompareChart.Panel::figure)
                .filter(f -> f.key().equals(key))
                .findFirst()
                .orElseThrow();
    }

    private static Document parse(String svg) throws Exception {
        return DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new InputSource(new StringReader(svg)));
    }

    /** The bars: a rect with a title, "SCENARIO, PANEL: TARGET ÷ nats". */
    private static List<String> bars(Document doc) {
        List<String> bars = new ArrayList<>();
        NodeList rects = doc.getElementsByTagName("rect");
        for (int i = 0; i < rects.getLength(); i++) {
            NodeList titles = ((Element) rects.item(i)).getElementsByTagName("title");
            if (titles.getLength() == 1) {
                bars.add(titles.item(0).getTextContent());
            }
        }
        return bars;
    }

    private static List<String> texts(Document doc) {
        List<String> texts = new ArrayList<>();
        NodeList nodes = doc.getElementsByTagName("text");
        for (int i = 0; i < nodes.getLength(); i++) {
            texts.add(nodes.item(i).getTextContent());
        }
        return texts;
    }

    @Test
    void mediansOfOneModeAndTheirRatiosToNats(@TempDir Path root) throws Exception {
        Scenario s = CompareChart.read(withBefore(root), "shared");
        assertEquals("fanout-1k-50k", s.name(), "from compare-SCENARIO-TIME");
        assertEquals(3, s.runCount());
        assertEquals(List.of("courier", "before"), s.compared());
        CompareTable.Figure throughput = figure("deliveriesPerSecond");
        assertEquals(1000.0, s.median("courier", throughput));
        assertEquals(2000.0, s.median("nats", throughput));
        assertEquals(0.5, s.ratio("courier", throughput));
        assertEquals(0.25, s.ratio("before", throughput));
        CompareTable.Figure p99 = figure("latencyMicros.p99");
        assertEquals(2.0, s.ratio("courier", p99), 1e-9);
        assertEquals(0.5, s.ratio("before", p99), 1e-9);
        CompareTable.Figure cpu = figure("serverCpuMicrosPerDelivery");
        assertEquals(2.0, s.ratio("courier", cpu), 1e-9);
        assertEquals(4.0, s.ratio("before", cpu), 1e-9);
        CompareTable.Figure rss = figure("serverRssPeakKiB");
        assertEquals(2.0, s.ratio("courier", rss), 1e-9);
        assertEquals(4.0, s.ratio("before", rss), 1e-9);

        Scenario pinned = CompareChart.read(root.resolve("compare-fanout-1k-50k-20261130T080000Z"), "pinned");
        assertEquals(7.0, pinned.ratio("courier", throughput), "only the pinned runs");
        assertEquals(List.of("courier"), pinned.compared());
    }

    @Test
    void aScenarioWithoutBeforeHasOnlyTheCourierBars(@TempDir Path root) throws Exception {
        List<Scenario> scenarios = List.of(
                CompareChart.read(withBefore(root), "shared"), CompareChart.read(withoutBefore(root), "shared"));
        List<String> bars = bars(parse(CompareChart.svg("series", "shared", scenarios)));
        assertEquals(4 * 2 + 4, bars.size(), "4 figures: courier and before for fanout-1k-50k, courier for topics");
        assertEquals(
                4, bars.stream().filter(b -> b.startsWith("topics, ")).count(), "topics: one bar per figure: " + bars);
        assertTrue(bars.contains("topics, throughput: courier ÷ nats"), bars.toString());
        assertTrue(bars.contains("fanout-1k-50k, server RSS, peak: before ÷ nats"), bars.toString());
    }

    @Test
    void theSvgIsWellFormedWithLabelsRatiosAndTheOneLine(@TempDir Path root) throws Exception {
        List<Scenario> scenarios = List.of(
                CompareChart.read(withBefore(root), "shared"), CompareChart.read(withoutBefore(root), "shared"));
        String svg = CompareChart.svg("before <a> & after", "shared", scenarios);
        Document doc = parse(svg);
        assertEquals("svg", doc.getDocumentElement().getTagName());
        assertEquals(0, doc.getElementsByTagName("script").getLength());
        List<String> texts = texts(doc);
        assertTrue(texts.contains("before <a> & after"), "the title, escaped in the file: " + texts);
        for (String label : List.of(
                "fanout-1k-50k",
                "topics",
                "throughput",
                "p99 latency",
                "server CPU per delivery",
                "server RSS, peak",
                "courier ÷ nats",
                "before ÷ nats (Courier from BEFORE_JAR)",
                "← worse · higher is better →",
                "← lower is better · worse →",
                "3 runs per target",
                "1×")) {
            assertTrue(texts.contains(label), label + " in " + texts);
        }
        // fanout-1k-50k: courier 0.50× 2.00× 2.00× 2.00×, before 0.25× 0.50× 4.00× 4.00×; topics: 12.00× 3.00× 0.50×
        // 4.00×
        for (String ratio : List.of("0.50×", "0.25×", "2.00×", "4.00×", "12.00×", "3.00×")) {
            assertTrue(texts.contains(ratio), ratio + " in " + texts);
        }
        assertEquals(-1, CompareChart.axis(scenarios)[0]);
        assertEquals(2, CompareChart.axis(scenarios)[1], "12× widens the axis to 100×");
        assertTrue(texts.contains("100×"), texts.toString());
    }

    @Test
    void aFigureTheRunsLackIsNotApplicable(@TempDir Path root) throws Exception {
        Path dir = root.resolve("compare-light-1k-20261130T082000Z");
        runs(dir, "courier", "shared", new double[] {20_000}, new long[] {5000}, new double[] {1}, -1);
        runs(dir, "nats", "shared", new double[] {20_000}, new long[] {5000}, new double[] {1}, -1);
        Scenario s = CompareChart.read(dir, "shared");
        assertNull(s.ratio("courier", figure("serverRssPeakKiB")), "-1: not measured");
        List<String> texts = texts(parse(CompareChart.svg("t", "shared", List.of(s))));
        assertEquals(1, texts.stream().filter("n/a"::equals).count(), texts.toString());
        assertEquals(3, texts.stream().filter("1.00×"::equals).count(), texts.toString());
    }

    @Test
    void aRenamedDirectoryIsNamedFromItsTable(@TempDir Path root) throws Exception {
        Path dir = root.resolve("series-a");
        Files.createDirectories(dir);
        Files.writeString(
                dir.resolve("table.md"),
                "\nlight-10k (10 s per run), shared cores (unpinned), median of 3 run(s) per target (min-max)\n");
        assertEquals("light-10k", CompareChart.name(dir));
        assertEquals("other", CompareChart.name(Files.createDirectories(root.resolve("other"))));
        assertEquals(
                Map.of(), CompareChart.read(root.resolve("other"), "shared").runs());
    }
}
