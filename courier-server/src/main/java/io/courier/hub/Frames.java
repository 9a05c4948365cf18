package io.courier.hub;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.courier.text.StrictUtf8;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.nio.charset.StandardCharsets;

/**
 * Builds outbound WebSocket text frames ready for the wire: RFC 6455 header plus JSON payload in
 * one pooled buffer. Written after the handshake, a plain {@link ByteBuf} passes Netty's frame
 * encoder untouched, so one encoding serves every subscriber. The published {@code message} is
 * copied byte-for-byte, never re-serialised.
 */
public final class Frames {
    /** FIN + opcode 1 (text). Server frames are never masked (RFC 6455 section 5.1). */
    private static final int FIN_TEXT = 0x81;

    static final byte[] BROADCAST_PREFIX = ascii("{\"action\":\"broadcast\",\"message\":");
    private static final byte[] OFFSET_FIELD = ascii(",\"offset\":");

    private Frames() {}

    /** {@code {"action":"publish","topic":"<topic>","message":} with the topic JSON-escaped. */
    public static byte[] publishPrefix(String topic) {
        String escaped = new String(JsonStringEncoder.getInstance().quoteAsString(topic));
        // Strict: a topic that reached the hub passed TopicNames, so replacement would hide a bug.
        return StrictUtf8.encode("{\"action\":\"publish\",\"topic\":\"" + escaped + "\",\"message\":");
    }

    /** A complete text frame {@code prefix + message + "}"}; {@code message} is read, not consumed. */
    public static ByteBuf frame(ByteBufAllocator alloc, byte[] prefix, ByteBuf message) {
        int payload = prefix.length + message.readableBytes() + 1;
        ByteBuf frame = alloc.directBuffer(headerLength(payload) + payload);
        writeHeader(frame, payload);
        frame.writeBytes(prefix);
        frame.writeBytes(message, message.readerIndex(), message.readableBytes());
        frame.writeByte('}');
        return frame;
    }

    /**
     * A history topic's delivery, {@code prefix + message + ,"offset":<offset>}}: the same frame as
     * {@link #frame} with the offset after the message, so a client reads both from one object.
     */
    public static ByteBuf frameWithOffset(ByteBufAllocator alloc, byte[] prefix, ByteBuf message, long offset) {
        byte[] digits = Long.toString(offset).getBytes(StandardCharsets.US_ASCII);
        int payload = prefix.length + message.readableBytes() + OFFSET_FIELD.length + digits.length + 1;
        ByteBuf frame = alloc.directBuffer(headerLength(payload) + payload);
        writeHeader(frame, payload);
        frame.writeBytes(prefix);
        frame.writeBytes(message, message.readerIndex(), message.readableBytes());
        frame.writeBytes(OFFSET_FIELD);
        frame.writeBytes(digits);
        frame.writeByte('}');
        return frame;
    }

    // RFC 6455 section 5.2: 7-bit length, or 126 + 16-bit, or 127 + 64-bit.
    private static int headerLength(int payload) {
        return payload < 126 ? 2 : payload <= 0xFFFF ? 4 : 10;
    }

    private static void writeHeader(ByteBuf frame, int payload) {
        frame.writeByte(FIN_TEXT);
        if (payload < 126) {
            frame.writeByte(payload);
        } else if (payload <= 0xFFFF) {
            frame.writeByte(126);
            frame.writeShort(payload);
        } else {
            frame.writeByte(127);
            frame.writeLong(payload);
        }
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
