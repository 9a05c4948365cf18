package io.courier.cluster;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.function.BiConsumer;

/**
 * The payload of a {@link NatsBroker#CATALOG} message: the audience's UTF-8 length as 4 bytes (big
 * endian), the audience, then the topic, both as UTF-8. Lengths rather than a separator, so any name
 * a client may choose crosses unchanged.
 */
final class CatalogAnnouncement {
    private CatalogAnnouncement() {}

    static byte[] encode(String audience, String topic) {
        byte[] a = audience.getBytes(StandardCharsets.UTF_8);
        byte[] t = topic.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + a.length + t.length)
                .putInt(a.length)
                .put(a)
                .put(t)
                .array();
    }

    /** Hands the names to {@code learned}; ignores a payload that is not one of ours. */
    static boolean decode(byte[] payload, BiConsumer<String, String> learned) {
        if (payload == null || payload.length < 4) {
            return false;
        }
        int audienceBytes = ByteBuffer.wrap(payload).getInt();
        if (audienceBytes <= 0 || audienceBytes >= payload.length - 4) {
            return false;
        }
        String audience = new String(payload, 4, audienceBytes, StandardCharsets.UTF_8);
        String topic =
                new String(payload, 4 + audienceBytes, payload.length - 4 - audienceBytes, StandardCharsets.UTF_8);
        learned.accept(audience, topic);
        return true;
    }
}
