package io.courier.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.topic.Catalog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The hub with EmbeddedChannels: what each channel is handed, and that nothing leaks. */
class HubTest {
    private final Catalog catalog = new Catalog();
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong fanOuts = new AtomicLong();
    private EmbeddedChannel a;
    private EmbeddedChannel b;
    private Hub hub;

    @BeforeEach
    void setUp() {
        a = new EmbeddedChannel();
        // Every EmbeddedChannel has its own loop; the hub must know the one both channels share.
        b = new EmbeddedChannel();
        hub = new Hub(a.eventLoop(), catalog::contains, ByteBufAllocator.DEFAULT, new FanoutListener() {
            @Override
            public void delivered(long deliveries) {
                delivered.addAndGet(deliveries);
            }

            @Override
            public void fannedOut(long nanos) {
                fanOuts.incrementAndGet();
            }
        });
        catalog.add("aud", "t");
    }

    @AfterEach
    void tearDown() {
        assertFalse(a.finishAndReleaseAll());
        b.finishAndReleaseAll();
    }

    private static ByteBuf json(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    /**
     * Decodes the raw frame bytes a channel was handed, as a client would: all of them, in order
     * (the fan-out may hand several frames over in one buffer).
     */
    private static List<String> readFrames(EmbeddedChannel ch) {
        // Server frames are unmasked; the client-side decoder accepts them.
        EmbeddedChannel client = new EmbeddedChannel(new WebSocket08FrameDecoder(false, false, 1 << 20));
        for (ByteBuf raw; (raw = ch.readOutbound()) != null; ) {
            client.writeInbound(raw);
        }
        List<String> texts = new ArrayList<>();
        for (TextWebSocketFrame frame; (frame = client.readInbound()) != null; ) {
            texts.add(frame.text());
            frame.release();
        }
        assertFalse(client.finishAndReleaseAll());
        return texts;
    }

    /** The one frame the channel was handed since the last read. */
    private static String readFrame(EmbeddedChannel ch) {
        List<String> texts = readFrames(ch);
        assertEquals(1, texts.size(), () -> "frames: " + texts);
        return texts.get(0);
    }

    @Test
    void publishWritesOneEncodedFrameToEachSubscriber() {
        Subscriber s1 = hub.connect(a, "aud");
        hub.subscribe(s1, "t");
        ByteBuf message = json("{\"k\":1}");
        assertEquals(1, hub.publish("aud", "t", message));
        message.release();
        a.runPendingTasks();
        assertEquals("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"k\":1}}", readFrame(a));
        assertNull(a.readOutbound());
        assertEquals(1, delivered.get());
        assertEquals(1, fanOuts.get(), "one fan-out timing per publish and loop");
    }

    private List<String> publishAll(String topic, List<String> values) {
        List<String> payloads = new ArrayList<>();
        for (String value : values) {
            ByteBuf message = json("{\"k\":\"" + value + "\"}");
            hub.publish("aud", topic, message);
            message.release();
            payloads.add("{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":{\"k\":\"" + value + "\"}}");
        }
        return payloads;
    }

    /**
     * At depth many publishes of one topic wait in the loop's queue: they leave as one run, one
     * buffer shared by every subscriber, in publish order.
     */
    @Test
    void publishesQueuedBackToBackLeaveAsOneRunInPublishOrder() {
        hub.subscribe(hub.connect(a, "aud"), "t");
        List<String> payloads = publishAll("t", List.of("1", "2", "y".repeat(Subscriber.COPY_MAX_BYTES), "3"));
        a.runPendingTasks();
        assertEquals(1, a.outboundMessages().size());
        assertEquals(payloads, readFrames(a));
        assertEquals(4, delivered.get(), "4 publishes x 1 subscriber");
        assertEquals(4, fanOuts.get(), "one fan-out timing per publish");
    }

    /** A run stops at a 64th of the queue limit (the slow-consumer bound's share), then the next one starts. */
    @Test
    void aRunStopsAtItsSizeLimit() {
        Hub limited =
                new Hub(a.eventLoop(), catalog::contains, ByteBufAllocator.DEFAULT, FanoutListener.NONE, 64 * 1300);
        limited.subscribe(limited.connect(a, "aud"), "t");
        String prefix = "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"k\":\"";
        List<String> payloads = new ArrayList<>();
        for (String value : List.of("1", "2", "3")) {
            // Each frame is a 4-byte header and a 600-byte payload: two fit in a 1,300-byte run, three do not.
            String padded = value + "x".repeat(600 - prefix.length() - "\"}}".length() - value.length());
            ByteBuf message = json("{\"k\":\"" + padded + "\"}");
            limited.publish("aud", "t", message);
            message.release();
            payloads.add(prefix + padded + "\"}}");
        }
        assertEquals(600, payloads.get(0).length());
        a.runPendingTasks();
        // The run of two (over the copy limit, so written shared), then the third alone.
        assertEquals(2, a.outboundMessages().size());
        assertEquals(payloads, readFrames(a));
    }

    /**
     * Publishes of different topics make runs of one; a subscriber of both still gets its small
     * frames of the drain copied into one buffer, in publish order, and a large frame shared.
     */
    @Test
    void smallFramesOfOneDrainLeaveInOneBufferPerSubscriber() {
        catalog.add("aud", "u");
        Subscriber s1 = hub.connect(a, "aud");
        hub.subscribe(s1, "t");
        hub.subscribe(s1, "u");
        List<String> payloads = new ArrayList<>();
        payloads.addAll(publishAll("t", List.of("1")));
        payloads.addAll(publishAll("u", List.of("2")));
        payloads.addAll(publishAll("t", List.of("3")));
        payloads.addAll(publishAll("u", List.of("y".repeat(Subscriber.COPY_MAX_BYTES))));
        payloads.addAll(publishAll("t", List.of("4")));
        payloads.addAll(publishAll("u", List.of("5")));
        a.runPendingTasks();
        // 1-3 copied into one buffer, the large frame shared, 4-5 copied into another.
        assertEquals(3, a.outboundMessages().size());
        assertEquals(payloads, readFrames(a));
        assertEquals(6, delivered.get());
    }

    /** One frame per drain (light load) is written as the shared frame itself, not copied. */
    @Test
    void aSingleFrameOfADrainIsWrittenUncopied() {
        hub.subscribe(hub.connect(a, "aud"), "t");
        ByteBuf message = json("{\"k\":1}");
        hub.publish("aud", "t", message);
        message.release();
        a.runPendingTasks();
        ByteBuf written = a.readOutbound();
        assertNotNull(written.unwrap(), "a view of the shared frame");
        written.release();
    }

    /** What courier_fanout_queued_bytes reads: frames handed to a loop and not yet written. */
    @Test
    void queuedBytesCountFramesUntilTheirLoopWritesThem() {
        hub.subscribe(hub.connect(a, "aud"), "t");
        assertEquals(0, hub.queuedBytes());
        ByteBuf message = json("{\"k\":1}");
        hub.publish("aud", "t", message);
        hub.publish("aud", "t", message);
        message.release();
        String payload = "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"k\":1}}";
        // Two frames, each a 2-byte header (payload under 126 bytes, RFC 6455 section 5.2) and the payload.
        assertEquals(2 * (2 + payload.length()), hub.queuedBytes());
        a.runPendingTasks();
        assertEquals(0, hub.queuedBytes());
        assertEquals(List.of(payload, payload), readFrames(a));
    }

    @Test
    void unknownTopicIsRefusedWithoutTouchingAnyone() {
        hub.subscribe(hub.connect(a, "aud"), "t");
        ByteBuf message = json("{}");
        CourierException e = assertThrows(CourierException.class, () -> hub.publish("aud", "nope", message));
        assertEquals(ErrorCode.ETOPIC_NOTFOUND, e.code());
        assertThrows(CourierException.class, () -> hub.publish("other", "t", message));
        message.release();
        a.runPendingTasks();
        assertNull(a.readOutbound());
    }

    @Test
    void publishWithNoSubscribersEncodesNothing() {
        hub.connect(a, "aud");
        ByteBuf message = json("{}");
        assertEquals(0, hub.publish("aud", "t", message));
        message.release();
    }

    @Test
    void broadcastReachesEveryConnectionOfTheAudienceOnly() {
        Subscriber s1 = hub.connect(a, "aud");
        hub.subscribe(s1, "t");
        ByteBuf message = json("{\"b\":true}");
        hub.broadcast("aud", message);
        hub.broadcast("other", message);
        message.release();
        a.runPendingTasks();
        assertEquals("{\"action\":\"broadcast\",\"message\":{\"b\":true}}", readFrame(a));
        assertNull(a.readOutbound());
    }

    @Test
    void structuresShrinkWhenConnectionsLeave() {
        Subscriber s1 = hub.connect(a, "aud");
        hub.subscribe(s1, "t");
        assertEquals(1, hub.activeAudiences());
        assertEquals(1, hub.subscriptions());
        hub.disconnect(s1);
        hub.disconnect(s1);
        assertEquals(0, hub.activeAudiences());
        assertEquals(0, hub.subscriptions());
        assertEquals(0, hub.connections());
        ByteBuf message = json("{}");
        assertEquals(0, hub.publish("aud", "t", message));
        message.release();
    }

    @Test
    void cutOffSubscriberGetsNothingMore() {
        Subscriber s1 = hub.connect(a, "aud");
        hub.subscribe(s1, "t");
        s1.cutOff();
        ByteBuf message = json("{}");
        hub.publish("aud", "t", message);
        message.release();
        a.runPendingTasks();
        assertNull(a.readOutbound());
        assertEquals(0, delivered.get());
    }

    @Test
    void channelOnAForeignLoopIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> hub.connect(b, "aud"));
    }

    @Test
    void fanOutWaitsForASubscriberPastItsBoundAndResumesWhenItCatchesUp() {
        Subscriber s1 = hub.connect(a, "aud");
        hub.subscribe(s1, "t");
        s1.fellBehind(); // what the session does when the channel turns unwritable
        ByteBuf message = json("{\"k\":1}");
        hub.publish("aud", "t", message);
        a.runPendingTasks();
        assertNull(a.readOutbound(), "nothing is written while a subscriber of the loop is past its bound");
        assertEquals(0, delivered.get());

        s1.caughtUp(); // writable again
        a.runPendingTasks();
        assertEquals("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"k\":1}}", readFrame(a));
        assertEquals(1, delivered.get());

        s1.fellBehind();
        hub.publish("aud", "t", message);
        message.release();
        a.runPendingTasks();
        assertNull(a.readOutbound());
        s1.cutOff(); // cut off after the grace: the loop goes on without it
        a.runPendingTasks();
        assertNull(a.readOutbound(), "a cut-off subscriber gets nothing");
        assertEquals(2, fanOuts.get(), "the waiting publish was fanned out once the loop stopped waiting");
    }

    @Test
    void publisherStopsReadingWhileALoopsQueueIsPastItsLimit() {
        Hub limited = new Hub(a.eventLoop(), catalog::contains, ByteBufAllocator.DEFAULT, FanoutListener.NONE, 100);
        Subscriber s1 = limited.connect(a, "aud");
        limited.subscribe(s1, "t");
        EmbeddedChannel publisher = b;
        ByteBuf message = json("{\"pad\":\"" + "x".repeat(200) + "\"}");
        limited.publish("aud", "t", message);
        message.release();
        limited.throttle(publisher);
        assertFalse(publisher.config().isAutoRead(), "over 100 queued bytes: the publisher is not read");
        a.runPendingTasks();
        assertTrue(publisher.config().isAutoRead(), "reads again once the queue is drained");
        assertTrue(readFrame(a).contains("xxx"));
        limited.throttle(publisher);
        assertTrue(publisher.config().isAutoRead(), "an empty queue holds nobody");
    }
}
