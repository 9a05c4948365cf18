package io.courier.bench;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class PublicationTest {

    @ParameterizedTest
    @ValueSource(ints = {100, 1024, 16384})
    void messageHasTheRequestedSizeAndReadsBack(int size) {
        StringBuilder s = new StringBuilder();
        Publication.write(s, 7, 123_456, 98_765_432_100L, size);
        assertEquals(size, s.length(), s.toString());
        long[] out = new long[3];
        ByteBuf bytes = Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
        try {
            assertTrue(Publication.read(bytes, 0, bytes.writerIndex(), new byte[Publication.HEADER_BYTES], out));
        } finally {
            bytes.release();
        }
        assertArrayEquals(new long[] {7, 123_456, 98_765_432_100L}, out);
    }

    @Test
    void sizeBelowTheHeaderGetsNoPadding() {
        StringBuilder s = new StringBuilder();
        Publication.write(s, 0, 5, 1000, 1);
        assertEquals("{\"p\":0,\"seq\":5,\"t\":1000}", s.toString());
    }

    @Test
    void otherJsonIsNotReadAsAPublication() {
        long[] out = new long[3];
        for (String json :
                new String[] {"{\"seq\":1,\"t\":2}", "{\"p\":x,\"seq\":1,\"t\":2}", "{\"p\":1,\"seq\":1", ""}) {
            ByteBuf bytes = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
            try {
                assertFalse(
                        Publication.read(bytes, 0, bytes.writerIndex(), new byte[Publication.HEADER_BYTES], out), json);
            } finally {
                bytes.release();
            }
        }
    }
}
