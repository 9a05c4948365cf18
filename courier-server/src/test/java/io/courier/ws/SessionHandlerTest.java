package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.auth.Principal;
import io.courier.config.Config;
import io.courier.hub.FanoutListener;
import io.courier.hub.Hub;
import io.courier.metrics.CourierMetrics;
import io.courier.testing.TestConfig;
import io.courier.topic.Catalog;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link SessionHandler}'s rules on an {@link EmbeddedChannel}: frames in, frames out, no socket and
 * no waiting. The rate limit reads a clock the test moves by hand. Every test ends with nothing left
 * unread or unreleased.
 */
class SessionHandlerTest {
    private static final String AUDIENCE = "aud.example.com";

    @TempDir
    Path dataDir;

    private final Catalog catalog = new Catalog();
    private final CourierMetrics metrics = new CourierMetrics();
    private long nowNanos;
    private EmbeddedChannel channel;
    private Hub hub;

    @AfterEach
    void nothingLeftOver() {
        assertFalse(channel.finishAndReleaseAll(), "frames left unread in the channel");
    }

    /** A session on a new channel, started as after a handshake; takes the {@code connected} frame. */
    private void open(Map<String, String> overrides) {
        Config config = TestConfig.load(dataDir, overrides);
        channel = new EmbeddedChannel();
        hub = new Hub(channel.eventLoop(), catalog::contains, ByteBufAllocator.DEFAULT, FanoutListener.NONE);
        SessionHandler session = new SessionHandler(
                hub, new Principal(AUDIENCE, Optional.of("user-1")), config, metrics, () -> nowNanos);
        channel.pipeline().addLast("ws-session", session);
        session.start(channel.pipeline().context(session));
        String connected = nextText();
        assertEquals("connected", get(connected, "action"), connected);
        assertEquals(AUDIENCE, get(connected, "audience"), connected);
    }

    private void open() {
        open(Map.of());
    }

    private void sendText(String json) {
        channel.writeInbound(new TextWebSocketFrame(json));
    }

    /** The next outbound frame, which must be a text frame; released here. */
    private String nextText() {
        Object frame = channel.readOutbound();
        try {
            return assertInstanceOf(TextWebSocketFrame.class, frame, "expected a text frame")
                    .text();
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    /** The next outbound frame, which must be a close frame; its status code. */
    private int nextCloseCode() {
        Object frame = channel.readOutbound();
        try {
            return assertInstanceOf(CloseWebSocketFrame.class, frame, "expected a close frame")
                    .statusCode();
        } finally {
            ReferenceCountUtil.release(frame);
        }
    }

    /** A frame that is acked and delivers nothing (a repeated subscribe), numbered {@code id}. */
    private static String subscribeFrame(int id) {
        return "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":" + id + "}";
    }

    @Test
    void subscribeToUnknownTopicIsErrorFrameAndConnectionStaysOpen() {
        open();
        sendText("{\"action\":\"subscribe\",\"topic\":\"nope\",\"id\":7}");

        String error = nextText();
        assertEquals("error", get(error, "action"), error);
        assertEquals("ETOPIC_NOTFOUND", get(error, "code"), error);
        assertEquals("7", get(error, "id"), error);
        assertTrue(channel.isOpen());
        assertEquals(0, hub.subscriptions());
    }

    @Test
    void subscribeWithIdIsAckedWithThatId() {
        catalog.add(AUDIENCE, "t");
        open();
        sendText("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":\"s-1\"}");

        String ack = nextText();
        assertEquals("ack", get(ack, "action"), ack);
        assertEquals("s-1", get(ack, "id"), ack);
        assertEquals(1, hub.subscriptions());
    }

    @Test
    void subscribeWithoutIdIsSilent() {
        catalog.add(AUDIENCE, "t");
        open();
        sendText("{\"action\":\"subscribe\",\"topic\":\"t\"}");

        assertNull(channel.readOutbound(), "no id, no ack");
        assertEquals(1, hub.subscriptions());
    }

    @Test
    void brokenJsonIsErrorFrameAndConnectionStaysOpen() {
        open();
        sendText("{\"action\":\"subscribe\",");

        assertEquals("EBODY_INVALID", get(nextText(), "code"));
        assertTrue(channel.isOpen());
    }

    @Test
    void binaryFrameIsClosedWith1003() {
        open();
        channel.writeInbound(new BinaryWebSocketFrame(Unpooled.wrappedBuffer(new byte[] {1, 2, 3})));

        assertEquals(1003, nextCloseCode());
        assertFalse(channel.isOpen(), "closed once the close frame is written");
        assertEquals(0, hub.connections());
    }

    @Test
    void pingIsAnsweredWithPongOfTheSamePayload() {
        open();
        channel.writeInbound(new PingWebSocketFrame(Unpooled.copiedBuffer("hello", StandardCharsets.UTF_8)));

        Object frame = channel.readOutbound();
        try {
            PongWebSocketFrame pong = assertInstanceOf(PongWebSocketFrame.class, frame);
            assertEquals("hello", pong.content().toString(StandardCharsets.UTF_8));
        } finally {
            ReferenceCountUtil.release(frame);
        }
        assertTrue(channel.isOpen());
    }

    @Test
    void clientCloseIsEchoedThenTheChannelCloses() {
        open();
        channel.writeInbound(new CloseWebSocketFrame(4321, "bye"));

        assertEquals(4321, nextCloseCode(), "RFC 6455 section 5.5.1: echo the client's code");
        assertFalse(channel.isOpen());
    }

    @Test
    void closeWithACodeNotAllowedOnTheWireIs1002() {
        open();
        // 1005 means "no status" and MUST NOT be sent (RFC 6455 section 7.4.1).
        channel.writeInbound(new CloseWebSocketFrame(true, 0, Unpooled.buffer(2).writeShort(1005)));

        assertEquals(1002, nextCloseCode());
        assertFalse(channel.isOpen());
    }

    @Test
    void readerIdleSendsAPing() {
        open();
        channel.pipeline().fireUserEventTriggered(IdleStateEvent.FIRST_READER_IDLE_STATE_EVENT);

        Object frame = channel.readOutbound();
        try {
            assertInstanceOf(PingWebSocketFrame.class, frame);
        } finally {
            ReferenceCountUtil.release(frame);
        }
        assertTrue(channel.isOpen());
    }

    @Test
    void shutdownClosesWith1001() {
        open();
        channel.pipeline().fireUserEventTriggered(ShutdownEvent.INSTANCE);

        assertEquals(1001, nextCloseCode());
    }

    /**
     * Limit 5, 30 frames at one instant: the token bucket lets 5 through, the refusal bucket takes 5
     * more and the 11th closes with 1008 (see {@link RateLimit}).
     */
    @Test
    void burstPastTwiceTheLimitIsAckedThenRefusedThenClosedWith1008() {
        catalog.add(AUDIENCE, "t");
        open(Map.of("courier.ws.rate.limit.per.second", "5"));
        int sent = 0;
        for (; sent < 30 && channel.isOpen(); sent++) {
            sendText(subscribeFrame(sent));
        }

        assertEquals(11, sent, "the 11th frame closes the connection");

        for (int i = 0; i < 5; i++) {
            String ack = nextText();
            assertEquals("ack", get(ack, "action"), ack);
            assertEquals(Integer.toString(i), get(ack, "id"), ack);
        }
        for (int i = 5; i < 10; i++) {
            String refused = nextText();
            assertEquals("ERATE_LIMITED", get(refused, "code"), refused);
            assertEquals(Integer.toString(i), get(refused, "id"), refused);
        }
        assertEquals(1008, nextCloseCode());
        assertNull(channel.readOutbound(), "nothing after the close frame");
    }

    @Test
    void tokensComeBackWithTime() {
        catalog.add(AUDIENCE, "t");
        open(Map.of("courier.ws.rate.limit.per.second", "5"));
        for (int i = 0; i < 8; i++) {
            sendText(subscribeFrame(i));
        }
        nowNanos += 1_000_000_000L; // one second: 5 tokens back, the 3 refusals drained
        for (int i = 8; i < 18; i++) {
            sendText(subscribeFrame(i));
        }

        StringBuilder verdicts = new StringBuilder();
        for (int i = 0; i < 18; i++) {
            verdicts.append("ack".equals(get(nextText(), "action")) ? 'A' : 'R');
        }
        assertEquals("AAAAARRR" + "AAAAARRRRR", verdicts.toString());
        assertTrue(channel.isOpen(), "refused but never past twice the limit");
    }
}
