package io.courier.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

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

    /** Decodes the raw frame bytes a channel was handed, as a client would. */
    private static String readFrame(EmbeddedChannel ch) {
        ByteBuf raw = ch.readOutbound();
        if (raw == null) {
            return null;
        }
        // Server frames are unmasked; the client-side decoder accepts them.
        EmbeddedChannel client = new EmbeddedChannel(new WebSocket08FrameDecoder(false, false, 1 << 20));
        client.writeInbound(raw);
        TextWebSocketFrame frame = client.readInbound();
        String text = frame.text();
        frame.release();
        assertFalse(client.finishAndReleaseAll());
        return text;
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
}
