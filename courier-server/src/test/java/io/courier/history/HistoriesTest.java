package io.courier.history;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.config.Config;
import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.hub.FanoutListener;
import io.courier.hub.Hub;
import io.courier.hub.KnownTopics;
import io.courier.topic.Catalog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.DefaultEventLoop;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The rings without sockets: offsets, size, TTL (on a clock moved by hand) and the memory budget. */
class HistoriesTest {
    private final Catalog catalog = new Catalog();
    private final DefaultEventLoop loop = new DefaultEventLoop();
    private long nowNanos = 1_000_000_000L;
    private Histories histories;

    private Histories histories(long maxMemoryBytes) {
        KnownTopics known = new KnownTopics() {
            @Override
            public boolean contains(String audience, String topic) {
                return catalog.contains(audience, topic);
            }

            @Override
            public HistorySettings history(String audience, String topic) {
                return catalog.history(audience, topic);
            }
        };
        Hub hub = new Hub(loop, known, ByteBufAllocator.DEFAULT, FanoutListener.NONE);
        histories = new Histories(
                hub,
                ByteBufAllocator.DEFAULT,
                new Config.HistoryConfig(0, 300, 1000, 3600, 300, maxMemoryBytes),
                () -> nowNanos);
        return histories;
    }

    @AfterEach
    void tearDown() throws Exception {
        histories.close();
        loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).get(5, TimeUnit.SECONDS);
    }

    @Test
    void offsetsAreConsecutiveFromOneAndMessagesKeptByteForByte() {
        catalog.add("aud", "t", new HistorySettings(10, 60));
        Histories h = histories(1 << 20);
        for (int i = 1; i <= 3; i++) {
            assertEquals(new Position(i, h.epoch()), publish(h, "t", "{ \"n\" : " + i + " }"));
        }
        assertEquals(List.of("1:{ \"n\" : 1 }", "2:{ \"n\" : 2 }", "3:{ \"n\" : 3 }"), read(h, "t", 0, 100));
        assertEquals(List.of("3:{ \"n\" : 3 }"), read(h, "t", 2, 100));
        assertEquals(List.of("2:{ \"n\" : 2 }"), read(h, "t", 1, 1));
        assertEquals(new Position(3, h.epoch()), h.position("aud", "t"));
    }

    @Test
    void sizeKeepsTheLastMessagesOnly() {
        catalog.add("aud", "t", new HistorySettings(3, 60));
        Histories h = histories(1 << 20);
        for (int i = 1; i <= 5; i++) {
            publish(h, "t", "{\"n\":" + i + "}");
        }
        assertEquals(List.of("3:{\"n\":3}", "4:{\"n\":4}", "5:{\"n\":5}"), read(h, "t", 0, 100));
    }

    @Test
    void messagesExpireAfterTheirTtl() {
        catalog.add("aud", "t", new HistorySettings(10, 2));
        Histories h = histories(1 << 20);
        publish(h, "t", "{\"n\":1}");
        nowNanos += TimeUnit.SECONDS.toNanos(1);
        publish(h, "t", "{\"n\":2}");
        nowNanos += TimeUnit.MILLISECONDS.toNanos(1500);
        assertEquals(List.of("2:{\"n\":2}"), read(h, "t", 0, 100), "the first is 2.5 s old");
        long held = h.heldBytes();
        nowNanos += TimeUnit.SECONDS.toNanos(1);
        h.sweep();
        assertEquals(0, h.heldBytes(), "the sweep freed the expired " + held + " bytes");
        assertEquals(new Position(2, h.epoch()), h.position("aud", "t"), "offsets go on");
    }

    @Test
    void theMemoryBudgetHoldsAndTheSweepTakesFromTheOldestTopics() {
        catalog.add("aud", "old", new HistorySettings(100, 60));
        catalog.add("aud", "new", new HistorySettings(100, 60));
        Histories h = histories(2048);
        String message = "{\"pad\":\"" + "x".repeat(60) + "\"}";
        for (int i = 0; i < 10; i++) { // about 1200 bytes of frames
            publish(h, "old", message);
            nowNanos++;
        }
        for (int i = 0; i < 20; i++) {
            publish(h, "new", message);
            nowNanos++;
            assertTrue(h.heldBytes() <= 2048, "bound held at once: " + h.heldBytes());
        }
        assertEquals(10, read(h, "old", 0, 100).size(), "an append over the budget evicts its own topic first");
        h.sweep();
        assertTrue(h.heldBytes() <= 2048 - 2048 / 10, "the sweep goes down to 90%: " + h.heldBytes());
        List<String> old = read(h, "old", 0, 100);
        assertTrue(old.size() < 10, "the oldest messages, on the old topic, went first");
        assertTrue(old.isEmpty() || old.get(0).startsWith(Integer.toString(10 - old.size() + 1) + ":"), old::toString);
    }

    @Test
    void aTopicWithoutHistoryHasNoRing() {
        catalog.add("aud", "plain");
        Histories h = histories(1 << 20);
        assertEquals(false, h.keeps("aud", "plain"));
        CourierException e = assertThrows(CourierException.class, () -> publish(h, "plain", "{}"));
        assertEquals(ErrorCode.ETOPIC_NOTFOUND, e.code());
    }

    @Test
    void eachInstanceHasItsOwnEpochAndCloseReleasesTheFrames() {
        catalog.add("aud", "t", new HistorySettings(10, 60));
        Histories h = histories(1 << 20);
        publish(h, "t", "{}");
        Publication kept = h.readNow("aud", "t", 0, 1).get(0);
        Histories other =
                new Histories(null, ByteBufAllocator.DEFAULT, new Config.HistoryConfig(0, 1, 1, 1, 1, 1024), () -> 0);
        assertNotEquals(h.epoch(), other.epoch());
        h.close();
        assertEquals(1, kept.message().refCnt(), "only the reader's reference is left");
        kept.message().release();
    }

    private Position publish(Histories h, String topic, String json) {
        ByteBuf message = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            return h.publishNow("aud", topic, message);
        } finally {
            message.release();
        }
    }

    private static List<String> read(Histories h, String topic, long since, int limit) {
        return h.readNow("aud", topic, since, limit).stream()
                .map(p -> {
                    try {
                        return p.offset() + ":" + p.message().toString(StandardCharsets.UTF_8);
                    } finally {
                        p.message().release();
                    }
                })
                .toList();
    }
}
