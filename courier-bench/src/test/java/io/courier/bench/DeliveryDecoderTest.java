package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.netty.util.concurrent.Promise;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A subscriber reads deliveries by their fields, whatever their order, and counts them per publisher. */
class DeliveryDecoderTest {
    private static final String TOPIC = "bench/0";

    private final Deliveries deliveries = new Deliveries(1);
    private final Promise<Void> ready = ImmediateEventExecutor.INSTANCE.newPromise();

    private static String publication(int publisher, long seq) {
        StringBuilder s = new StringBuilder();
        Publication.write(s, publisher, seq, 0, 100);
        return s.toString();
    }

    /** An unmasked text frame, as a server sends it (RFC 6455 section 5.2). */
    private static ByteBuf textFrame(String json) {
        byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        ByteBuf frame = Unpooled.buffer();
        frame.writeByte(0x81);
        if (payload.length < 126) {
            frame.writeByte(payload.length);
        } else {
            frame.writeByte(126).writeShort(payload.length);
        }
        return frame.writeBytes(payload);
    }

    private DeliveryDecoder deliver(String topic, String... frames) {
        DeliveryDecoder decoder =
                new DeliveryDecoder(deliveries, CourierTarget.subscriberOf(topic), 0, false, 2, ready);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        for (String json : frames) {
            channel.writeInbound(textFrame(json));
        }
        assertFalse(channel.finishAndReleaseAll());
        return decoder;
    }

    /** {@code count} deliveries of {@code publisher}, in sequence, none unreadable. */
    private static void assertAllRead(DeliveryDecoder d, int publisher, long count) {
        assertEquals(count, d.fromPublisher(publisher));
        assertEquals(0, d.unreadable());
        assertEquals(0, d.outOfSequence());
    }

    @Test
    void deliveriesInTheServersOrderAreCountedPerPublisher() {
        DeliveryDecoder d = deliver(
                TOPIC,
                "{\"action\":\"publish\",\"topic\":\"bench/0\",\"message\":" + publication(0, 0) + "}",
                "{\"action\":\"publish\",\"topic\":\"bench/0\",\"message\":" + publication(1, 0) + "}",
                "{\"action\":\"publish\",\"topic\":\"bench/0\",\"message\":" + publication(0, 1) + "}");
        assertEquals(2, d.fromPublisher(0));
        assertAllRead(d, 1, 1);
        assertEquals(3, deliveries.received());
    }

    @Test
    void fieldsInAnotherOrderReadTheSame() {
        DeliveryDecoder d = deliver(
                TOPIC,
                "{\"topic\":\"bench/0\",\"message\":" + publication(0, 0) + ",\"action\":\"publish\"}",
                "{\"message\":" + publication(0, 1) + ",\"action\":\"publish\",\"topic\":\"bench/0\"}",
                "{\"action\":\"publish\",\"message\":" + publication(0, 2) + ",\"topic\":\"bench/0\"}");
        assertAllRead(d, 0, 3);
    }

    @Test
    void extraFieldsAndWhitespaceAreSkipped() {
        DeliveryDecoder d = deliver(
                TOPIC,
                "{\"action\":\"publish\",\"id\":7,\"meta\":{\"message\":[1,{\"x\":\"}\"}]},\"topic\":\"bench/0\",\"message\":"
                        + publication(1, 0) + ",\"ts\":1.5e3}",
                "{ \"action\" : \"publish\" , \"topic\" : \"bench/0\" , \"message\" : " + publication(1, 1) + " }");
        assertAllRead(d, 1, 2);
    }

    @Test
    void escapedStringsBeforeTheMessageDoNotShiftIt() {
        String topic = "bench/\"quoted\" \u00e9\u2603";
        DeliveryDecoder d = deliver(
                topic,
                // the server's own order, with the topic JSON-escaped as its Frames writes it
                "{\"action\":\"publish\",\"topic\":\"bench/\\\"quoted\\\" \u00e9\u2603\",\"message\":"
                        + publication(0, 0) + "}",
                // escapes a writer may choose instead, and a string that looks like the message field
                "{\"action\":\"pub\\u006cish\",\"note\":\"\\\",\\\"message\\\":{}\",\"topic\":\"bench\\/\\\"quoted\\\" \\u00e9\\u2603\","
                        + "\"message\":" + publication(0, 1) + "}");
        assertAllRead(d, 0, 2);
    }

    @Test
    void aDeliveryWithoutAMessageIsUnreadableNotMiscounted() {
        DeliveryDecoder d =
                deliver(TOPIC, "{\"topic\":\"bench/0\",\"action\":\"publish\"}", "{\"action\":\"publish\",\"topic\":");
        assertEquals(0, d.fromPublisher(0));
        assertEquals(2, d.unreadable());
    }

    @Test
    void repliesAreToldApartByTheirActionInAnyOrder() {
        DeliveryDecoder d = deliver(
                null,
                "{\"id\":\"c1\",\"audience\":\"a.test\",\"action\":\"connected\"}",
                "{\"message\":{\"text\":\"hi\"},\"action\":\"broadcast\"}",
                "{\"action\":\"broadcast\",\"message\":{}}");
        assertTrue(ready.isSuccess(), "connected, in any field order, makes a subscriber without a topic ready");
        assertEquals(2, d.broadcasts());
        assertEquals(0, d.unreadable());
    }
}
