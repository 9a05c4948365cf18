package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * nats-server frames its outbound buffer as it likes: the parser must find the same operations
 * whether several MSGs share a payload or one is split anywhere across payloads.
 */
class NatsParserTest {
    /** Records what the parser found, as text. */
    private static final class Seen implements NatsParser.Handler {
        final List<String> ops = new ArrayList<>();

        @Override
        public void msg(ByteBuf in, int from, int to) {
            ops.add("MSG " + in.toString(from, to - from, StandardCharsets.UTF_8));
        }

        @Override
        public void ping() {
            ops.add("PING");
        }

        @Override
        public void pong() {
            ops.add("PONG");
        }

        @Override
        public void info() {
            ops.add("INFO");
        }

        @Override
        public void error(String line) {
            ops.add("ERR " + line);
        }
    }

    private static final String STREAM = "INFO {\"server_id\":\"x\",\"max_payload\":1048576}\r\n"
            + "MSG bench/0 1 5\r\nhello\r\n"
            + "MSG bench/0 1 12\r\nwith\r\ncrlf!!\r\n"
            + "PING\r\n"
            + "MSG bench/0 1 _INBOX.reply 0\r\n\r\n"
            + "PONG\r\n"
            + "MSG bench/0 1 3\r\nend\r\n";

    private static final List<String> EXPECTED =
            List.of("INFO", "MSG hello", "MSG with\r\ncrlf!!", "PING", "MSG ", "PONG", "MSG end");

    private static ByteBuf bytes(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    private static List<String> feed(String... payloads) {
        NatsParser parser = new NatsParser();
        Seen seen = new Seen();
        for (String p : payloads) {
            ByteBuf in = bytes(p);
            try {
                parser.feed(in, in.readerIndex(), in.writerIndex(), seen);
            } finally {
                in.release();
            }
        }
        assertEquals(0, parser.pendingBytes(), "nothing left over once the stream is complete");
        parser.release();
        return seen.ops;
    }

    @Test
    void severalMessagesInOnePayloadAreEachFound() {
        assertEquals(EXPECTED, feed(STREAM));
    }

    @Test
    void aMessageSplitAtAnyByteIsFoundOnce() {
        for (int cut = 0; cut <= STREAM.length(); cut++) {
            assertEquals(EXPECTED, feed(STREAM.substring(0, cut), STREAM.substring(cut)), "cut at " + cut);
        }
    }

    @Test
    void aMessageSpreadOverManyPayloadsIsFoundOnce() {
        String[] oneByteEach = STREAM.split("");
        assertEquals(EXPECTED, feed(oneByteEach));
        for (int size = 2; size < 40; size += 7) {
            List<String> pieces = new ArrayList<>();
            for (int i = 0; i < STREAM.length(); i += size) {
                pieces.add(STREAM.substring(i, Math.min(STREAM.length(), i + size)));
            }
            assertEquals(EXPECTED, feed(pieces.toArray(String[]::new)), "pieces of " + size);
        }
    }

    @Test
    void errorsAndUnknownLinesAreReported() {
        assertEquals(
                List.of("ERR -ERR 'Authorization Violation'", "ERR HELLO", "PING"),
                feed("-ERR 'Authorization Violation'\r\nHELLO\r\n+OK\r\nping\r\n"));
    }

    @Test
    void aMessageLineWithoutASizeIsAnError() {
        assertEquals(List.of("ERR MSG bench/0 1", "PONG"), feed("MSG bench/0 1\r\nPONG\r\n"));
    }

    /** The subscriber's whole path: binary WebSocket frames whose MSGs straddle frame boundaries. */
    @Test
    void aSubscriberCountsMessagesSplitAcrossWebSocketFrames() {
        Deliveries deliveries = new Deliveries(1);
        Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();
        DeliveryDecoder decoder =
                new DeliveryDecoder(deliveries, new NatsTarget().subscriber("bench/0"), 0, false, 2, ready);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.releaseOutbound(); // CONNECT, SUB, PING
        StringBuilder stream = new StringBuilder("PONG\r\n");
        for (int seq = 0; seq < 5; seq++) {
            StringBuilder message = new StringBuilder();
            Publication.write(message, 1, seq, 0, 100);
            stream.append("MSG bench/0 1 ")
                    .append(message.length())
                    .append("\r\n")
                    .append(message)
                    .append("\r\n");
        }
        String all = stream.toString();
        // Frames of 77 bytes: every message spans two of them, and most frames hold parts of two.
        for (int i = 0; i < all.length(); i += 77) {
            channel.writeInbound(binaryFrame(all.substring(i, Math.min(all.length(), i + 77))));
        }
        assertEquals(true, ready.isSuccess(), "ready on the PONG that follows SUB");
        assertEquals(5, decoder.delivered());
        assertFalse(channel.finishAndReleaseAll());
        assertEquals(5, decoder.fromPublisher(1));
        assertEquals(0, decoder.outOfSequence());
        assertEquals(0, decoder.unreadable());
    }

    /** An unmasked binary frame, as a server sends it (RFC 6455 section 5.2). */
    private static ByteBuf binaryFrame(String payload) {
        byte[] bytes = payload.getBytes(StandardCharsets.US_ASCII);
        ByteBuf frame = Unpooled.buffer().writeByte(0x82);
        if (bytes.length < 126) {
            frame.writeByte(bytes.length);
        } else {
            frame.writeByte(126).writeShort(bytes.length);
        }
        return frame.writeBytes(bytes);
    }
}
