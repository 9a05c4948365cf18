package io.courier.text;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NamesTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "\ud800tenant",
                "ten\ud800ant",
                "tenant\ud800", // lone high surrogate at start, middle, end
                "\udc00tenant",
                "ten\udc00ant",
                "tenant\udc00", // lone low surrogate at start, middle, end
                "\udc00\ud800", // a pair in the wrong order
                "\ud800\ud800\udc00", // a high surrogate before a valid pair
                "\ud83d", // half an emoji, alone
            })
    void unpairedSurrogatesAreRefused(String name) {
        assertFalse(Names.isValid(name));
        assertTrue(Names.problem(name).startsWith("unpaired surrogate"), Names.problem(name));
        assertThrows(IllegalArgumentException.class, () -> StrictUtf8.encode(name));
    }

    @ParameterizedTest(name = "U+{0}")
    @ValueSource(ints = {0x00, 0x01, 0x09, 0x0a, 0x0d, 0x1b, 0x1f, 0x7f, 0x80, 0x85, 0x9f})
    void controlCharactersAreRefusedAnywhere(int control) {
        String ch = String.valueOf((char) control);
        for (String name : new String[] {ch + "tenant", "ten" + ch + "ant", "tenant" + ch}) {
            assertFalse(Names.isValid(name), name);
            assertTrue(
                    Names.problem(name).startsWith("control character U+" + String.format("%04X", control)),
                    Names.problem(name));
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(
            strings = {
                "tenant",
                "tenant?",
                "aud-1.example.com",
                "tenant with spaces",
                "\ud83d\ude00",
                "tenant\ud83d\ude00",
                "\ud800\udc00x", // valid pairs: astral characters
                "\u00e9t\u00e9",
                "e\u0301",
                "\u4e2d\u6587",
                "\u00a0",
                "\ufffd",
                "\u00a1",
            })
    void wellFormedNamesWithoutControlsAreAccepted(String name) {
        assertNull(Names.problem(name));
        assertTrue(Names.isValid(name));
        assertArrayEquals(name.getBytes(StandardCharsets.UTF_8), StrictUtf8.encode(name));
        assertEquals(name, StrictUtf8.decode(StrictUtf8.encode(name)));
    }

    @Test
    void nullIsNotAName() {
        assertFalse(Names.isValid(null));
    }

    @Test
    void problemNamesThePositionWithoutEchoingTheName() {
        assertEquals(
                "unpaired surrogate U+D800 at index 6 (expected: well-formed Unicode)", Names.problem("secret\ud800"));
        assertEquals("control character U+0000 at index 0 (expected: none)", Names.problem("\u0000secret"));
    }

    @Test
    void malformedUtf8IsReportedNotReplaced() {
        // CESU-8 for U+D800, an overlong '/', and a lone continuation byte
        for (byte[] bytes :
                new byte[][] {{(byte) 0xed, (byte) 0xa0, (byte) 0x80}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0x80}}) {
            assertThrows(IllegalArgumentException.class, () -> StrictUtf8.decode(bytes));
        }
    }
}
