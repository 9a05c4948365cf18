package io.courier.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.config.HistorySettings;
import io.nats.client.impl.Headers;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class CatalogAnnouncementTest {
    private static final List<String> AWKWARD = List.of(
            "a",
            "a.b",
            "..",
            "*",
            "a*",
            ">",
            "a.>",
            "_41",
            "%41",
            "_",
            "a b",
            "ops/alerts",
            "$SYS",
            "ü",
            "日本語",
            "\uD83D\uDE00",
            "x\uD83D\uDE00y",
            "x".repeat(255),
            "ü".repeat(255),
            "\uD83D\uDE00".repeat(255));

    @Test
    void everyAwkwardAudienceAndTopicPairCrossesUnchanged() {
        for (String audience : AWKWARD) {
            for (String topic : AWKWARD) {
                List<String> got = new ArrayList<>();
                boolean accepted = CatalogAnnouncement.decode(CatalogAnnouncement.encode(audience, topic), (a, t) -> {
                    got.add(a);
                    got.add(t);
                });
                assertTrue(accepted, () -> "refused " + audience + " / " + topic);
                assertEquals(List.of(audience, topic), got, () -> audience + " / " + topic);
            }
        }
    }

    @Test
    void thePayloadIsTheAudiencesUtf8LengthBigEndianThenBothNamesInUtf8() {
        byte[] payload = CatalogAnnouncement.encode("ü.a", "\uD83D\uDE00");

        byte[] expected = {
            0, 0, 0, 4, (byte) 0xC3, (byte) 0xBC, '.', 'a', (byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80
        };
        assertArrayEquals(expected, payload);
    }

    @Test
    void aPayloadBuiltByHandInTheDocumentedLayoutDecodes() {
        byte[] audience = "acme".getBytes(StandardCharsets.UTF_8);
        byte[] topic = "news.>".getBytes(StandardCharsets.UTF_8);
        byte[] payload = ByteBuffer.allocate(4 + audience.length + topic.length)
                .putInt(audience.length)
                .put(audience)
                .put(topic)
                .array();

        List<String> got = new ArrayList<>();
        assertTrue(CatalogAnnouncement.decode(payload, (a, t) -> got.addAll(List.of(a, t))));
        assertEquals(List.of("acme", "news.>"), got);
    }

    @Test
    void malformedPayloadsAreRefusedWithoutLearningAnything() {
        byte[] acmeNews = CatalogAnnouncement.encode("acme", "news");
        List<byte[]> malformed = List.of(
                new byte[0],
                new byte[] {0, 0, 4},
                new byte[] {0, 0, 0, 4}, // a length and nothing else
                withLength(0, "acmenews"), // empty audience
                withLength(4, "acme"), // empty topic
                withLength(9, "acmenews"), // audience runs past the end
                withLength(-1, "acmenews"),
                withLength(Integer.MIN_VALUE, "acmenews"),
                withLength(Integer.MAX_VALUE, "acmenews"),
                "acme.news".getBytes(StandardCharsets.UTF_8), // some other publisher's text
                Arrays.copyOf(acmeNews, 6), // cut off inside the audience
                Arrays.copyOf(acmeNews, 8)); // cut off after the audience: no topic

        for (byte[] payload : malformed) {
            List<String> got = new ArrayList<>();
            assertFalse(
                    CatalogAnnouncement.decode(payload, (a, t) -> got.addAll(List.of(a, t))),
                    () -> "accepted " + Arrays.toString(payload));
            assertEquals(List.of(), got);
        }
        List<String> got = new ArrayList<>();
        assertFalse(CatalogAnnouncement.decode(null, (a, t) -> got.add(a)));
        assertEquals(List.of(), got);
    }

    @Test
    void namesThatAreNotWellFormedUtf8OrNotValidNamesAreRefusedNotReplaced() {
        byte[] badTopic = {0, 0, 0, 4, 'a', 'c', 'm', 'e', 'n', (byte) 0xC0, (byte) 0x80}; // overlong NUL
        byte[] badAudience = {0, 0, 0, 2, (byte) 0xED, (byte) 0xA0, 'n'}; // cut surrogate
        byte[] controlInTopic = {0, 0, 0, 4, 'a', 'c', 'm', 'e', 'n', 0x01};
        byte[] nulInTopic = CatalogAnnouncement.encode("acme", "a\u0000b"); // no entry point accepts it
        byte[] lengthLookalike = CatalogAnnouncement.encode("\u0000\u0000\u0000\u0001", "news");
        for (byte[] payload : List.of(badTopic, badAudience, controlInTopic, nulInTopic, lengthLookalike)) {
            List<String> got = new ArrayList<>();
            assertFalse(
                    CatalogAnnouncement.decode(payload, (a, t) -> got.addAll(List.of(a, t))),
                    () -> "accepted " + Arrays.toString(payload) + " as " + got);
            assertEquals(List.of(), got);
        }
    }

    @Test
    void historySettingsCrossInAHeaderAndAMalformedOneIsIgnored() {
        Headers headers = new Headers();
        CatalogAnnouncement.putHistory(headers, HistorySettings.NONE);
        assertEquals(HistorySettings.NONE, CatalogAnnouncement.history(headers), "no header: no history");
        assertEquals(HistorySettings.NONE, CatalogAnnouncement.history(null));
        CatalogAnnouncement.putHistory(headers, new HistorySettings(100, 300));
        assertEquals(new HistorySettings(100, 300), CatalogAnnouncement.history(headers));
        for (String bad :
                List.of("", "100", ",300", "100,", "x,1", "0,300", "100,0", "-1,5", "1,2,3", "99999999999,1")) {
            Headers h = new Headers();
            h.put(CatalogAnnouncement.HISTORY, bad);
            assertEquals(null, CatalogAnnouncement.history(h), () -> "accepted '" + bad + "'");
        }
    }

    private static byte[] withLength(int audienceBytes, String rest) {
        byte[] r = rest.getBytes(StandardCharsets.UTF_8);
        return ByteBuffer.allocate(4 + r.length).putInt(audienceBytes).put(r).array();
    }
}
