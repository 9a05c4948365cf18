package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** How a run is laid out: who publishes where, who stalls, which source address a socket uses. */
class LoadPlanTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    static LoadOptions parse(String... flags) {
        String[] args = new String[flags.length + 4];
        args[0] = "--url";
        args[1] = "http://127.0.0.1:9";
        args[2] = "--secret";
        args[3] = SECRET;
        System.arraycopy(flags, 0, args, 4, flags.length);
        return LoadOptions.parse(args, Map.of());
    }

    @Test
    void publishersShareTheTopicsWithoutOverlap() {
        Set<Integer> seen = new HashSet<>();
        for (int p = 0; p < 10; p++) {
            int[] mine = PublishPhase.mineOf(p, 10, 100);
            assertEquals(10, mine.length);
            for (int t : mine) {
                assertEquals(p, t % 10);
                assertEquals(true, seen.add(t), "topic " + t + " has one publisher");
            }
        }
        assertEquals(100, seen.size());
        assertArrayEquals(new int[] {1, 4}, PublishPhase.mineOf(1, 3, 5));
    }

    @Test
    void onePercentOfSubscribersAreSlowSpreadEvenly() {
        LoadOptions options = parse("--slow-percent", "1", "--duration", "40");
        List<Integer> slow =
                IntStream.range(0, 10_000).filter(options::isSlow).boxed().toList();
        assertEquals(100, slow.size());
        assertEquals(99, slow.get(0));
        assertEquals(199, slow.get(1));
        assertEquals(0, IntStream.range(0, 10_000).filter(parse()::isSlow).count());
    }

    @Test
    void socketsBeyondOneSourceAddressesPortsUseTheNextLoopbackAddress() {
        assertNull(Load.sourceAddress(5, 20_000, 25_000, true), "the kernel picks while ports suffice");
        assertEquals(
                "127.0.0.1", Load.sourceAddress(24_999, 50_000, 25_000, true).getHostString());
        assertEquals(
                "127.0.0.2", Load.sourceAddress(25_000, 50_000, 25_000, true).getHostString());
        assertEquals(
                "127.0.0.3", Load.sourceAddress(50_000, 60_000, 25_000, true).getHostString());
        assertEquals(0, Load.sourceAddress(50_000, 60_000, 25_000, true).getPort());
        assertNull(
                Load.sourceAddress(50_000, 60_000, 25_000, false), "a server elsewhere is not reached from 127.0.0.x");
        assertEquals(true, Load.isLoopback("localhost"));
        assertEquals(true, Load.isLoopback("127.0.0.1"));
        assertEquals(false, Load.isLoopback("192.0.2.1"));
    }

    @Test
    void flagsThatContradictEachOtherAreRefusedByName() {
        assertEquals(
                "--calibrate: 10 with --rate 5 (expected: --rate 0, the calibration sets it)",
                assertThrows(IllegalArgumentException.class, () -> parse("--calibrate", "10", "--rate", "5"))
                        .getMessage());
        assertEquals(
                "--publishers: 3 (expected: at most --topics, 2)",
                assertThrows(IllegalArgumentException.class, () -> parse("--topics", "2", "--publishers", "3"))
                        .getMessage());
        assertEquals(
                "--slow-after: 40 (expected: less than --duration 40)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> parse("--slow-percent", "1", "--duration", "40", "--slow-after", "40"))
                        .getMessage());
        assertEquals(
                "unknown flag --bogus",
                assertThrows(IllegalArgumentException.class, () -> parse("--bogus", "1"))
                        .getMessage());
    }

    @Test
    void aTokenFileGivesTheBearerAndItsAudience(@TempDir Path dir) throws Exception {
        String jwt = CourierApi.mint(SECRET, "tenant-7.example");
        Path file = dir.resolve("token");
        Files.writeString(file, jwt + "\n");
        LoadOptions options = LoadOptions.parse(
                new String[] {"--url", "http://127.0.0.1:9", "--token-file", file.toString()}, Map.of());
        assertEquals(jwt, options.bearer());
        assertEquals("tenant-7.example", options.audience());
        assertEquals(
                "--secret: 0 characters (expected: the server's HS256 secret, at least 32, or --token-file)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> LoadOptions.parse(new String[] {"--url", "http://127.0.0.1:9"}, Map.of()))
                        .getMessage());
    }

    @Test
    void theLagBoundHoldsLargeMessagesUnderAQuarterMebibytePerSubscriber() {
        assertEquals(1000, PublishPhase.lagMessages(parse("--size", "100")));
        assertEquals(256, PublishPhase.lagMessages(parse("--size", "1024")));
        assertEquals(16, PublishPhase.lagMessages(parse("--size", "16384")));
        assertEquals(10, PublishPhase.lagMessages(parse("--size", "100", "--max-lag", "10")));
    }

    @Test
    void subscribersUseTheOneUrlByDefault() {
        LoadOptions options = parse();
        assertEquals(List.of(URI.create("http://127.0.0.1:9")), options.subscriberUrls());
        assertEquals(0, options.subscriberServer(0));
        assertEquals(0, options.subscriberServer(7));
    }

    @Test
    void subscribersSpreadRoundRobinOverSeveralUrls() {
        LoadOptions options = parse("--subscriber-urls", "http://127.0.0.1:9,http://127.0.0.1:10,http://127.0.0.2:11");
        assertEquals(
                List.of(
                        URI.create("http://127.0.0.1:9"),
                        URI.create("http://127.0.0.1:10"),
                        URI.create("http://127.0.0.2:11")),
                options.subscriberUrls());
        assertEquals(URI.create("http://127.0.0.1:9"), options.url(), "publishers and REST stay on --url");
        assertArrayEquals(
                new int[] {0, 1, 2, 0, 1, 2, 0},
                IntStream.range(0, 7).map(options::subscriberServer).toArray());
        long onEach = IntStream.range(0, 3000)
                .filter(i -> options.subscriberServer(i) == 2)
                .count();
        assertEquals(1000, onEach, "1,000 of 3,000 subscribers on each of 3 servers");
    }

    @Test
    void subscriberUrlsMustEachBeHttpWithAPort() {
        assertEquals(
                "--subscriber-urls: ws://127.0.0.1:10 (expected: http://HOST:PORT)",
                assertThrows(
                                IllegalArgumentException.class,
                                () -> parse("--subscriber-urls", "http://127.0.0.1:9,ws://127.0.0.1:10"))
                        .getMessage());
        assertEquals(
                "--subscriber-urls:  (expected: http://HOST:PORT)",
                assertThrows(IllegalArgumentException.class, () -> parse("--subscriber-urls", "http://127.0.0.1:9,"))
                        .getMessage());
        assertThrows(IllegalArgumentException.class, () -> parse("--subscriber-urls", "http://127.0.0.1"));
        assertThrows(IllegalArgumentException.class, () -> parse("--subscriber-urls", "http://a b:1"));
    }

    @Test
    void laterFlagsOverrideEarlierOnes() {
        assertEquals(
                19_500,
                parse("--subscribers", "50000", "--subscribers", "19500").subscribers());
    }

    @Test
    void serverMetricsSumTheSeriesTheSummaryNeeds() {
        String text = """
                # HELP courier_deliveries_total Frames handed to subscriber connections
                # TYPE courier_deliveries_total counter
                courier_deliveries_total 1500.0
                courier_connections 3.0
                courier_connections_closed_total{reason="client"} 4.0
                courier_connections_closed_total{reason="slow_consumer"} 2.0
                courier_connections_opened_total 9.0
                jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1000.0
                jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 2.5E3
                jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 7000.0
                netty_allocator_memory_used{allocator_type="AdaptiveByteBufAllocator",id="1",memory_type="direct"} 655360.0
                process_cpu_time_ns_total 2.5E9
                """;
        ServerMetrics.Snapshot s = ServerMetrics.parse(text);
        assertEquals(1500, s.deliveries());
        assertEquals(3, s.connections(), "courier_connections, not the _opened or _closed counters");
        assertEquals(2, s.slowConsumerCloses());
        assertEquals(3500, s.heapUsedBytes());
        assertEquals(655360, s.directUsedBytes());
        assertEquals(2.5, s.cpuSeconds());
        assertEquals(-1, ServerMetrics.parse("up 1\n").deliveries());
    }
}
