package io.courier.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class SubjectsTest {
    /** nats.docs nats-concepts/subjects.md: the recommended token characters. */
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9_-]+");

    private static final List<String> AWKWARD = List.of(
            "a.b",
            "a*",
            ">",
            "*",
            "%41",
            "_41",
            "A",
            "_",
            "__",
            "_5F",
            "a b",
            "ü/x",
            "ops/alerts",
            "$SYS",
            "a\u0000b",
            "\uD83D\uDE00",
            "x".repeat(100),
            "x".repeat(101),
            "ü".repeat(255),
            ".".repeat(255),
            "-");

    @Test
    void awkwardNamesBecomeValidDistinctTokensThatRoundTrip() {
        Map<String, String> seen = new HashMap<>();
        for (String name : AWKWARD) {
            String token = Subjects.token(name);
            assertTrue(TOKEN.matcher(token).matches(), name + " -> " + token);
            assertTrue(token.length() <= Subjects.MAX_TOKEN_CHARS, name + " -> " + token);
            String before = seen.put(token, name);
            assertEquals(null, before, "collision on " + token);
            String escaped = Subjects.escape(name);
            assertTrue(TOKEN.matcher(escaped).matches(), escaped);
            assertEquals(name, Subjects.unescape(escaped));
            if (!Subjects.isHashed(token)) {
                assertEquals(name, Subjects.unescape(token));
            }
        }
    }

    @Test
    void escapingIsByteWiseAndEscapesTheEscapeCharacter() {
        assertEquals("a_2Eb", Subjects.escape("a.b"));
        assertEquals("_5F41", Subjects.escape("_41"));
        assertEquals("_2541", Subjects.escape("%41"));
        assertEquals("_C3_BC_2Fx", Subjects.escape("ü/x"));
        assertEquals("plain-Name09", Subjects.escape("plain-Name09"));
    }

    @Test
    void longNamesAreHashedAndStillDistinct() {
        String a = "t".repeat(255);
        String b = "t".repeat(254) + "u";
        assertTrue(Subjects.isHashed(Subjects.token(a)));
        assertFalse(Subjects.token(a).equals(Subjects.token(b)));
        assertEquals(Subjects.token(a), Subjects.token(new String(a)), "the hash is a function of the name");
        String subject = Subjects.message("ü".repeat(255), ".".repeat(255));
        assertTrue(subject.length() < 256, subject);
        assertEquals(4, subject.split("\\.").length, subject);
    }

    @Test
    void subjectsSeparateAudiencesTopicsAndBroadcasts() {
        assertEquals("courier.m.a_2Eb.c", Subjects.message("a.b", "c"));
        assertFalse(Subjects.message("a.b", "c").equals(Subjects.message("a", "b.c")));
        assertEquals("courier.b.a_2Eb", Subjects.broadcast("a.b"));
    }

    @Test
    void randomNamesNeverCollide() {
        Random rnd = new Random(12);
        Map<String, String> seen = new HashMap<>();
        String alphabet = "aA0-_.%*> üé/$\u0000";
        for (int i = 0; i < 20_000; i++) {
            StringBuilder name = new StringBuilder();
            int length = 1 + rnd.nextInt(i % 10 == 0 ? 120 : 6);
            for (int j = 0; j < length; j++) {
                name.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            }
            String n = name.toString();
            String other = seen.put(Subjects.token(n), n);
            assertTrue(other == null || other.equals(n), n + " and " + other);
            assertEquals(n, Subjects.unescape(Subjects.escape(n)));
        }
    }

    @Test
    void malformedTokensAndBadNamesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Subjects.unescape("a_2"));
        assertThrows(IllegalArgumentException.class, () -> Subjects.unescape("_41"), "A is never escaped");
        assertThrows(IllegalArgumentException.class, () -> Subjects.unescape("a.b"));
        assertThrows(IllegalArgumentException.class, () -> Subjects.unescape("_Zabc"));
        assertThrows(IllegalArgumentException.class, () -> Subjects.escape(""));
        assertThrows(IllegalArgumentException.class, () -> Subjects.escape("\uD800"));
    }
}
