package io.courier.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.error.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class CommandTest {

    private static ByteBuf buf(String s) {
        // A reader index > 0 proves offsets are taken relative to the readable bytes.
        ByteBuf b = Unpooled.buffer();
        b.writeBytes("junk".getBytes(StandardCharsets.UTF_8));
        b.readerIndex(4);
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
        return b;
    }

    @Test
    void publishKeepsTheMessageBytesExactly() {
        String message = "{ \"é\" : [1, {\"x\":\"}\"}], \"n\": 1e10 }";
        ByteBuf json = buf("{\"action\":\"publish\",\"topic\":\"a/b\",\"message\":" + message + ",\"id\":12}");
        Command c = Command.decode(json);
        assertFalse(c.failed(), () -> c.error().getMessage());
        assertEquals(Action.PUBLISH, c.action());
        assertEquals("a/b", c.topic());
        assertEquals("12", c.id());
        assertFalse(c.idIsString());
        assertEquals(message, c.message(json).toString(StandardCharsets.UTF_8));
        json.release();
    }

    @Test
    void fieldOrderDoesNotMatter() {
        ByteBuf json = buf("{\"message\":{\"a\":1},\"id\":\"x\",\"action\":\"broadcast\"}");
        Command c = Command.decode(json);
        assertEquals(Action.BROADCAST, c.action());
        assertEquals("x", c.id());
        assertTrue(c.idIsString());
        assertEquals("{\"a\":1}", c.message(json).toString(StandardCharsets.UTF_8));
        json.release();
    }

    @Test
    void idIsKeptWhenTheRestIsWrong() {
        Command c = Command.decode(buf("{\"id\":\"k\",\"action\":\"publish\",\"topic\":\"t\",\"message\":3}"));
        assertTrue(c.failed());
        assertEquals(ErrorCode.EMESSAGE_INVALID, c.error().code());
        assertEquals("k", c.id());
    }

    @Test
    void trailingGarbageIsRefused() {
        Command c = Command.decode(buf("{\"action\":\"broadcast\",\"message\":{}} {}"));
        assertEquals(ErrorCode.EBODY_INVALID, c.error().code());
    }

    @Test
    void deepNestingIsRefusedBeforeItCostsMemory() {
        String deep = "[".repeat(1000) + "]".repeat(1000);
        Command c = Command.decode(buf("{\"action\":\"broadcast\",\"message\":{\"d\":" + deep + "}}"));
        assertEquals(ErrorCode.EBODY_INVALID, c.error().code());
    }

    @Test
    void unknownFieldsAreIgnored() {
        Command c = Command.decode(buf("{\"action\":\"subscribe\",\"topic\":\"t\",\"extra\":{\"deep\":[1,2]}}"));
        assertFalse(c.failed());
        assertNull(c.id());
    }

    @Test
    void topicOfMaximumLengthIsAcceptedAndOneMoreIsNot() {
        assertFalse(Command.decode(buf("{\"action\":\"subscribe\",\"topic\":\"" + "t".repeat(255) + "\"}"))
                .failed());
        assertEquals(
                ErrorCode.ETOPIC_INVALID,
                Command.decode(buf("{\"action\":\"subscribe\",\"topic\":\"" + "t".repeat(256) + "\"}"))
                        .error()
                        .code());
    }

    @Test
    void controlCharactersInTopicAreRefused() {
        assertEquals(
                ErrorCode.ETOPIC_INVALID,
                Command.decode(buf("{\"action\":\"subscribe\",\"topic\":\"a\\u0007b\"}"))
                        .error()
                        .code());
        assertEquals(
                ErrorCode.ETOPIC_INVALID,
                Command.decode(buf("{\"action\":\"subscribe\",\"topic\":\"a\\u00a0b\"}"))
                        .error()
                        .code());
    }

    @Test
    void subscribeCarriesWhereTheClientLeftOff() {
        Command c = decode("{\"action\":\"subscribe\",\"topic\":\"t\",\"since\":{\"epoch\":\"e1\",\"offset\":41}}");
        assertFalse(c.failed());
        assertTrue(c.hasSince());
        assertEquals(41, c.sinceOffset());
        assertEquals("e1", c.sinceEpoch());
        assertFalse(decode("{\"action\":\"subscribe\",\"topic\":\"t\"}").hasSince());
    }

    @Test
    void aMalformedSinceFailsASubscribeOnly() {
        for (String since : new String[] {
            "null",
            "[]",
            "{}",
            "{\"offset\":-1,\"epoch\":\"e\"}",
            "{\"offset\":1}",
            "{\"offset\":1e3,\"epoch\":\"e\"}",
            "{\"offset\":1,\"epoch\":null}",
            "{\"offset\":1,\"epoch\":\"e\",\"x\":0}",
            "{\"offset\":99999999999999999999,\"epoch\":\"e\"}"
        }) {
            Command c = decode("{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":3,\"since\":" + since + "}");
            assertTrue(c.failed(), since);
            assertEquals(ErrorCode.EHISTORY_INVALID, c.error().code(), since);
            assertEquals("3", c.id());
            Command publish = decode("{\"action\":\"publish\",\"topic\":\"t\",\"message\":{},\"since\":" + since + "}");
            assertFalse(publish.failed(), "other actions ignore since: " + since);
        }
    }

    private static Command decode(String json) {
        ByteBuf buf = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        try {
            return Command.decode(buf);
        } finally {
            buf.release();
        }
    }
}
