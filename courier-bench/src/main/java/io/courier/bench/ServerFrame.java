package io.courier.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * Reads the two things the bench needs from a text frame of the server, {@code {"action":...}}: the
 * action and, for a delivery, where its {@code message} value starts.
 *
 * <p>Fast path: the server writes {@code {"action":"} first in every frame and a delivery as
 * {@code {"action":"publish","topic":"<topic JSON-escaped>","message":} (its {@code Frames} and
 * {@code Replies}), so byte comparisons against those prefixes answer for almost every frame. The
 * protocol does not promise that order, so a frame that does not match is parsed as JSON (jackson-core,
 * a copy of the payload): fields in any order, extra fields and escaped strings read the same, only
 * slower. Subscribers share the cores with the server under test; the fast path keeps this the few
 * dozen byte reads per delivery it was. Any thread; stateless.
 */
final class ServerFrame {
    private static final JsonFactory JSON = new JsonFactory();
    private static final ByteBuf ACTION_FIRST = wrap("{\"action\":\"".getBytes(StandardCharsets.US_ASCII));

    private ServerFrame() {}

    /** {@code {"action":"publish","topic":"<topic>","message":}, the prefix of the deliveries of {@code topic}. */
    static ByteBuf publishPrefix(String topic) {
        String escaped = new String(JsonStringEncoder.getInstance().quoteAsString(topic));
        return wrap(("{\"action\":\"publish\",\"topic\":\"" + escaped + "\",\"message\":")
                .getBytes(StandardCharsets.UTF_8));
    }

    /** The first letter of the action of the frame in {@code in[from, to)} ({@code p}ublish, {@code a}ck, ...), or 0. */
    static byte action(ByteBuf in, int from, int to) {
        int length = ACTION_FIRST.readableBytes();
        if (to - from > length && ByteBufUtil.equals(in, from, ACTION_FIRST, 0, length)) {
            return in.getByte(from + length);
        }
        return parse(in, from, to).action;
    }

    /**
     * Where the {@code message} value of the delivery in {@code in[from, to)} starts, or -1 when it has
     * none; {@code prefix} is {@link #publishPrefix} of the topic the subscriber expects.
     */
    static int messageAt(ByteBuf in, int from, int to, ByteBuf prefix) {
        int length = prefix.readableBytes();
        if (to - from >= length && ByteBufUtil.equals(in, from, prefix, 0, length)) {
            return from + length;
        }
        int at = parse(in, from, to).messageAt;
        return at < 0 ? -1 : from + at;
    }

    /** The action's first letter (0 if none) and the message's offset in the payload (-1 if none). */
    private record Fields(byte action, int messageAt) {
        static final Fields NONE = new Fields((byte) 0, -1);
    }

    private static Fields parse(ByteBuf in, int from, int to) {
        byte[] payload = ByteBufUtil.getBytes(in, from, to - from);
        byte action = 0;
        int messageAt = -1;
        try (JsonParser p = JSON.createParser(payload)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return Fields.NONE;
            }
            for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("action") && value == JsonToken.VALUE_STRING) {
                    String text = p.getText();
                    action = text.isEmpty() ? 0 : (byte) text.charAt(0);
                } else if (name.equals("message")) {
                    messageAt = (int) p.currentTokenLocation().getByteOffset();
                }
                p.skipChildren();
            }
        } catch (IOException e) {
            return Fields.NONE;
        }
        return new Fields(action, messageAt);
    }

    /** Read-only: shared by every subscriber's event loop, compared by absolute index only. */
    private static ByteBuf wrap(byte[] bytes) {
        return Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes).asReadOnly());
    }
}
