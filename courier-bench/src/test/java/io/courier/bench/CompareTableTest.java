package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The comparison table takes medians per target and mode and divides Courier's by each peer's. */
class CompareTableTest {
    private static Path summary(Path dir, String name, double perSecond, long p99Micros, long rssKib) throws Exception {
        Path file = dir.resolve(name + ".json");
        Files.writeString(
                file,
                "{\"label\":\"x\",\"deliveriesPerSecond\":" + perSecond
                        + ",\"latencyMicros\":{\"samples\":10,\"p50\":1000,\"p99\":" + p99Micros + "},"
                        + "\"timeline\":[{\"seconds\":1.0}],\"serverCpuMicrosPerDelivery\":0.5,"
                        + "\"serverRssPeakKiB\":" + rssKib + ",\"missingDeliveries\":2,\"unreadable\":1,"
                        + "\"disconnectedEarly\":0,\"closeCodes\":{},\"cpuWallSeconds\":10.0,\"otherCpuSeconds\":5.0}");
        return file;
    }

    @Test
    void readsTopLevelAndNestedFiguresAndSumsTheLoss(@TempDir Path dir) throws Exception {
        var figures = CompareTable.read(summary(dir, "a", 1000, 5000, 2048));
        assertEquals(1000.0, figures.get("deliveriesPerSecond"));
        assertEquals(5000.0, figures.get("latencyMicros.p99"));
        assertEquals(3.0, figures.get("lost"));
        assertEquals(0.5, figures.get("otherCores"), "other processes' CPU seconds over the phase's wall time");
    }

    @Test
    void mediansAndRatiosPerMode(@TempDir Path dir) throws Exception {
        List<CompareTable.Run> runs = new ArrayList<>();
        double[] courier = {900, 1000, 5000};
        double[] nats = {2000, 1900, 2100};
        for (int i = 0; i < 3; i++) {
            runs.add(new CompareTable.Run(
                    "shared", "courier", CompareTable.read(summary(dir, "c" + i, courier[i], 40_000, 1024))));
            runs.add(new CompareTable.Run(
                    "shared", "nats", CompareTable.read(summary(dir, "n" + i, nats[i], 20_000, 512))));
        }
        runs.add(new CompareTable.Run("pinned", "courier", CompareTable.read(summary(dir, "p", 3000, 1000, 1024))));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CompareTable.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), "fanout-1k", runs);
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("fanout-1k, shared cores (unpinned), median of 3 run(s) per target"), text);
        assertTrue(
                text.contains("| throughput, deliveries/s (higher is better) | 1,000 (900–5,000) | 2,000 (1,900–2,100)"
                        + " | 0.50× |"),
                text);
        assertTrue(text.contains("| p99 latency, ms | 40.0 | 20.0 | 2.00× |"), text);
        assertTrue(text.contains("| server RSS, peak MiB | 1 | 1 | 2.00× |"), text);
        assertTrue(text.contains("pinned (server on core 0, client on core 1), median of 1 run(s)"), text);
        assertTrue(text.contains("| figure | courier |\n"), "no ratio column without a peer: " + text);
        assertTrue(text.contains("| lost (missing + unreadable) | 3 | 3 |  |\n"), "no ratio of counts: " + text);
    }

    @Test
    void courierIsDividedByBeforeToo(@TempDir Path dir) throws Exception {
        List<CompareTable.Run> runs = new ArrayList<>();
        // As a failed first courier run would leave them: nats and before first.
        runs.add(new CompareTable.Run("shared", "nats", CompareTable.read(summary(dir, "n", 2000, 20_000, 512))));
        runs.add(new CompareTable.Run("shared", "before", CompareTable.read(summary(dir, "b", 500, 80_000, 2048))));
        runs.add(new CompareTable.Run("shared", "courier", CompareTable.read(summary(dir, "c", 1000, 40_000, 1024))));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CompareTable.print(new PrintStream(bytes, true, StandardCharsets.UTF_8), "light-1k", runs);
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(
                text.contains("| figure | courier | before | nats | courier ÷ before | courier ÷ nats |\n"),
                "courier, then before, then the peers: " + text);
        assertTrue(
                text.contains("| throughput, deliveries/s (higher is better) | 1,000 | 500 | 2,000 | 2.00× | 0.50× |"),
                text);
        assertTrue(text.contains("| p99 latency, ms | 40.0 | 80.0 | 20.0 | 0.50× | 2.00× |"), text);
    }

    @Test
    void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
        assertEquals(2.5, CompareTable.median(new double[] {4, 1, 3, 2}));
        assertEquals("n/a", CompareTable.ratio(1.0, 0.0));
    }
}
