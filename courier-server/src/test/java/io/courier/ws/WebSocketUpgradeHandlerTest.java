package io.courier.ws;

import static io.courier.testing.JsonField.get;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.auth.ConnectionKeys;
import io.courier.auth.Principal;
import io.courier.config.Config;
import io.courier.hub.FanoutListener;
import io.courier.hub.Hub;
import io.courier.metrics.CourierMetrics;
import io.courier.testing.TestConfig;
import io.courier.topic.Catalog;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.websocketx.WebSocketFrameDecoder;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WebSocketUpgradeHandler}'s rules on an {@link EmbeddedChannel}: which requests are refused
 * with which status, which keep their connection, and that a valid upgrade turns the HTTP pipeline
 * into a WebSocket one. No socket, no waiting; every test ends with nothing left unreleased.
 */
class WebSocketUpgradeHandlerTest {
    private static final String AUDIENCE = "aud.example.com";
    /** RFC 6455 section 1.3's worked example: this key and its accept value. */
    private static final String NONCE = "dGhlIHNhbXBsZSBub25jZQ==";

    private static final String ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
    /** What the server initializer lists as HTTP-only; the upgrade removes these by name. */
    @TempDir
    Path dataDir;

    private final CourierMetrics metrics = new CourierMetrics();
    private ConnectionKeys keys;
    private Config config;
    private EmbeddedChannel channel;
    private Hub hub;

    @BeforeEach
    void setUp() {
        config = TestConfig.load(dataDir, Map.of());
        keys = ConnectionKeys.load(dataDir, Duration.ofMinutes(1));
    }

    @AfterEach
    void nothingLeftOver() {
        assertFalse(channel.finishAndReleaseAll(), "messages left unread in the channel");
    }

    /** The upgrade handler alone: requests go in as objects, responses come out as objects. */
    private void openHandlerOnly() {
        channel = new EmbeddedChannel();
        hub = new Hub(channel.eventLoop(), new Catalog()::contains, ByteBufAllocator.DEFAULT, FanoutListener.NONE);
        channel.pipeline().addLast("ws-upgrade", new WebSocketUpgradeHandler(keys, hub, config, metrics));
    }

    private String validKey() {
        return keys.sign(new Principal(AUDIENCE, Optional.of("user-1")));
    }

    private static FullHttpRequest request(HttpMethod method, String uri, String... headers) {
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, uri);
        request.headers().set("Host", "127.0.0.1");
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().add(headers[i], headers[i + 1]);
        }
        return request;
    }

    private static FullHttpRequest upgrade(String uri, String version, String key) {
        return request(
                HttpMethod.GET,
                uri,
                "Upgrade",
                "websocket",
                "Connection",
                "Upgrade",
                "Sec-WebSocket-Version",
                version,
                "Sec-WebSocket-Key",
                key);
    }

    /** Sends {@code request} and checks the refusal's status, error code and JSON body; returns the response headers' owner. */
    private FullHttpResponse refusal(FullHttpRequest request, int status, String code) {
        channel.writeInbound(request);
        assertNull(channel.readInbound(), "a request at /ws never reaches the REST handlers");
        FullHttpResponse response = assertInstanceOf(FullHttpResponse.class, channel.readOutbound());
        assertEquals(status, response.status().code());
        assertTrue(
                response.headers().get("Content-Type", "").startsWith("application/json"),
                response.headers().toString());
        assertEquals(code, get(response.content().toString(StandardCharsets.UTF_8), "error.code"));
        return response;
    }

    @Test
    void plainGetIs426NamingVersion13AndKeepsTheConnection() {
        openHandlerOnly();
        FullHttpResponse response = refusal(request(HttpMethod.GET, "/ws"), 426, "EUPGRADE_REQUIRED");
        try {
            assertEquals("websocket", response.headers().get("Upgrade"));
            assertEquals("13", response.headers().get("Sec-WebSocket-Version"), "RFC 6455 section 4.4");
            assertTrue(channel.isOpen(), "a plain GET without upgrade headers keeps its connection");
        } finally {
            response.release();
        }
    }

    @Test
    void postIs405AllowingGet() {
        openHandlerOnly();
        FullHttpResponse response =
                refusal(request(HttpMethod.POST, "/ws?token=" + validKey()), 405, "EMETHOD_NOT_ALLOWED");
        try {
            assertEquals("GET", response.headers().get("Allow"));
        } finally {
            response.release();
        }
    }

    @Test
    void badKeyIs401AndClosesTheConnection() {
        openHandlerOnly();
        refusal(upgrade("/ws?token=garbage", "13", NONCE), 401, "ETOKEN_INVALID")
                .release();
        assertFalse(channel.isOpen(), "bytes after a refused upgrade may not be HTTP");
    }

    @Test
    void missingKeyIs401() {
        openHandlerOnly();
        refusal(upgrade("/ws", "13", NONCE), 401, "ETOKEN_INVALID").release();
    }

    @Test
    void otherVersionIs426AndClosesTheConnection() {
        openHandlerOnly();
        refusal(upgrade("/ws?token=" + validKey(), "8", NONCE), 426, "EUPGRADE_REQUIRED")
                .release();
        assertFalse(channel.isOpen());
    }

    @Test
    void nonceThatIsNot16BytesIs400() {
        openHandlerOnly();
        refusal(upgrade("/ws?token=" + validKey(), "13", "c2hvcnQ="), 400, "EHANDSHAKE_INVALID")
                .release();
        assertFalse(channel.isOpen());
    }

    @Test
    void otherPathsPassThroughUntouched() {
        openHandlerOnly();
        FullHttpRequest health = request(HttpMethod.GET, "/healthz");
        channel.writeInbound(health);

        Object passed = channel.readInbound();
        try {
            assertSame(health, passed);
            assertNull(channel.readOutbound(), "no answer from the upgrade handler");
        } finally {
            ReferenceCountUtil.release(passed);
        }
    }

    @Test
    void validKeyIs101AndThePipelineBecomesAWebSocketOne() {
        channel = new EmbeddedChannel();
        hub = new Hub(channel.eventLoop(), new Catalog()::contains, ByteBufAllocator.DEFAULT, FanoutListener.NONE);
        channel.pipeline().addLast("http", new HttpServerCodec());
        channel.pipeline().addLast("aggregator", new HttpObjectAggregator(8192));
        channel.pipeline().addLast("ws-upgrade", new WebSocketUpgradeHandler(keys, hub, config, metrics));
        channel.pipeline().addLast("api", new ChannelInboundHandlerAdapter());

        channel.writeInbound(Unpooled.copiedBuffer(
                "GET /ws?token=" + validKey() + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + NONCE + "\r\n"
                        + "Sec-WebSocket-Version: 13\r\n\r\n",
                StandardCharsets.ISO_8859_1));

        String written = drainOutbound();
        assertTrue(written.startsWith("HTTP/1.1 101 Switching Protocols\r\n"), written);
        assertTrue(written.toLowerCase().contains("sec-websocket-accept: " + ACCEPT.toLowerCase() + "\r\n"), written);
        String connected = written.substring(written.indexOf("\r\n\r\n") + 4);
        assertTrue(
                connected.contains("\"action\":\"connected\""),
                "the session's first frame follows the 101: " + connected);

        List<String> names = channel.pipeline().names();
        for (String gone : List.of("http", "aggregator", "ws-upgrade", "api")) {
            assertFalse(names.contains(gone), gone + " still in " + names);
        }
        for (String added : List.of("ws-utf8", "ws-aggregator", "ws-ping", "ws-idle", "ws-session")) {
            assertTrue(names.contains(added), added + " missing from " + names);
        }
        assertNotNull(channel.pipeline().get(WebSocketFrameDecoder.class), "frames are decoded: " + names);
        assertEquals(1, hub.connections());
    }

    /** Everything written so far, as ISO-8859-1 text (the 101 head, then the frames). */
    private String drainOutbound() {
        StringBuilder text = new StringBuilder();
        for (Object out; (out = channel.readOutbound()) != null; ) {
            try {
                text.append(assertInstanceOf(ByteBuf.class, out).toString(StandardCharsets.ISO_8859_1));
            } finally {
                ReferenceCountUtil.release(out);
            }
        }
        return text.toString();
    }
}
