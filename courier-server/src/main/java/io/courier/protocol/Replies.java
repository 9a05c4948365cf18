package io.courier.protocol;

import com.fasterxml.jackson.core.JsonGenerator;
import io.courier.error.ErrorCode;
import io.courier.json.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;

/** The server's own socket frames: connected, ack and error. Any thread. */
public final class Replies {
    private Replies() {}

    /** {@code {"action":"connected","id":"<connection id>","audience":"<name>"}} */
    public static ByteBuf connected(ByteBufAllocator alloc, String connectionId, String audience) {
        return Json.write(alloc, gen -> {
            gen.writeStartObject();
            gen.writeStringField("action", "connected");
            gen.writeStringField("id", connectionId);
            gen.writeStringField("audience", audience);
            gen.writeEndObject();
        });
    }

    /** {@code {"action":"ack","id":...}} with the id as the client wrote it. */
    public static ByteBuf ack(ByteBufAllocator alloc, Command command) {
        return Json.write(alloc, gen -> {
            gen.writeStartObject();
            gen.writeStringField("action", "ack");
            writeId(gen, command);
            gen.writeEndObject();
        });
    }

    /**
     * A subscribe to a history topic, always answered:
     * {@code {"action":"ack","id":7,"topic":"t","position":{"offset":50,"epoch":"…"},"recovered":true}}
     * with the id only when the client gave one, {@code recovered} only when it gave {@code since},
     * and {@code position} only when the topic keeps history (epoch not null).
     */
    public static ByteBuf historyAck(
            ByteBufAllocator alloc, Command command, long offset, String epoch, Boolean recovered) {
        return Json.write(alloc, gen -> {
            gen.writeStartObject();
            gen.writeStringField("action", "ack");
            writeId(gen, command);
            gen.writeStringField("topic", command.topic());
            if (epoch != null) {
                gen.writeObjectFieldStart("position");
                gen.writeNumberField("offset", offset);
                gen.writeStringField("epoch", epoch);
                gen.writeEndObject();
            }
            if (recovered != null) {
                gen.writeBooleanField("recovered", recovered);
            }
            gen.writeEndObject();
        });
    }

    /** {@code {"action":"error","code":"EHISTORY_GAP","topic":"t","message":"…"}}: the topic lost state. */
    public static ByteBuf stateLost(ByteBufAllocator alloc, String topic) {
        return Json.write(alloc, gen -> {
            gen.writeStartObject();
            gen.writeStringField("action", "error");
            gen.writeStringField("code", ErrorCode.EHISTORY_GAP.name());
            gen.writeStringField("topic", topic);
            gen.writeStringField(
                    "message", "a message of this topic was lost on its way to this server; resubscribe with since");
            gen.writeEndObject();
        });
    }

    /** {@code {"action":"error","id":...,"code":"...","message":"..."}}; id only when the client gave one. */
    public static ByteBuf error(ByteBufAllocator alloc, Command command, ErrorCode code, String message) {
        return Json.write(alloc, gen -> {
            gen.writeStartObject();
            gen.writeStringField("action", "error");
            if (command != null) {
                writeId(gen, command);
            }
            gen.writeStringField("code", code.name());
            gen.writeStringField("message", message);
            gen.writeEndObject();
        });
    }

    private static void writeId(JsonGenerator gen, Command command) throws IOException {
        if (command.id() == null) {
            return;
        }
        gen.writeFieldName("id");
        if (command.idIsString()) {
            gen.writeString(command.id());
        } else {
            gen.writeNumber(command.id());
        }
    }
}
