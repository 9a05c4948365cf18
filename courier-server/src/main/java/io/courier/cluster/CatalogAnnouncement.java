package io.courier.cluster;

import io.courier.config.HistorySettings;
import io.courier.text.Names;
import io.courier.text.StrictUtf8;
import io.nats.client.impl.Headers;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.function.BiConsumer;

/**
 * The payload of a {@link NatsBroker#CATALOG} message: the audience's UTF-8 length as 4 bytes (big
 * endian), the audience, then the topic, both as UTF-8. Lengths rather than a separator, so any name
 * a client may choose crosses unchanged. A topic with history carries its settings in the
 * {@link #HISTORY} header ({@code size,ttl}); a node that predates history sends none, and its
 * topics keep none.
 */
final class CatalogAnnouncement {
    static final String HISTORY = "Courier-History";

    private CatalogAnnouncement() {}

    static void putHistory(Headers headers, HistorySettings history) {
        if (history.enabled()) {
            headers.put(HISTORY, history.size() + "," + history.ttlSeconds());
        }
    }

    /**
     * The settings an announcement carries: {@link HistorySettings#NONE} without the header, null
     * for a header that is not one of ours (the announcement is then ignored, and the store answers
     * for the topic on a miss: settings are never guessed).
     */
    static HistorySettings history(Headers headers) {
        String value = headers == null ? null : headers.getFirst(HISTORY);
        if (value == null) {
            return HistorySettings.NONE;
        }
        int comma = value.indexOf(',');
        try {
            int size = Integer.parseInt(value.substring(0, Math.max(0, comma)));
            int ttl = Integer.parseInt(value.substring(comma + 1));
            return size > 0 && ttl > 0 ? new HistorySettings(size, ttl) : null;
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            return null;
        }
    }

    static byte[] encode(String audience, String topic) {
        byte[] a = StrictUtf8.encode(audience);
        byte[] t = StrictUtf8.encode(topic);
        return ByteBuffer.allocate(4 + a.length + t.length)
                .putInt(a.length)
                .put(a)
                .put(t)
                .array();
    }

    /**
     * Hands the names to {@code learned}; ignores a payload that is not one of ours, including names
     * that are not well-formed UTF-8 or not valid names (never decoded with replacement: a mangled
     * name would be a topic no node created).
     */
    static boolean decode(byte[] payload, BiConsumer<String, String> learned) {
        if (payload == null || payload.length < 4) {
            return false;
        }
        int audienceBytes = ByteBuffer.wrap(payload).getInt();
        if (audienceBytes <= 0 || audienceBytes >= payload.length - 4) {
            return false;
        }
        String audience;
        String topic;
        try {
            audience = StrictUtf8.decode(Arrays.copyOfRange(payload, 4, 4 + audienceBytes));
            topic = StrictUtf8.decode(Arrays.copyOfRange(payload, 4 + audienceBytes, payload.length));
        } catch (IllegalArgumentException notUtf8) {
            return false;
        }
        if (!Names.isValid(audience) || !Names.isValid(topic)) {
            return false;
        }
        learned.accept(audience, topic);
        return true;
    }
}
