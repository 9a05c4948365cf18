package io.courier.reliability;

import io.courier.error.ErrorCode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The frames {@link SocketFuzzIT} sends: a seeded generator of valid frames, frames with one known
 * defect each (the oracle: which answer the README and the error vocabulary prescribe), and random
 * mutations of valid frames (any known answer will do).
 */
final class FuzzFrames {
    /** The fuzzed audience's topics. Connections stay subscribed to "t" throughout. */
    static final List<String> TOPICS = List.of("t", "x/y", "ü/ñ");
    /** An outcome set that accepts any ack, no answer, or an error frame with a known code. */
    static final String ANY = "ANY";

    private FuzzFrames() {}

    static String publishPrefix(String topic) {
        return "{\"action\":\"publish\",\"topic\":\"" + topic + "\",\"message\":";
    }

    /** One frame and what may come back. {@code outcomes}: "ack", "none", an error code, or ANY. */
    record Case(String kind, String text, Set<String> outcomes, IdRule idRule, String id, Delivery delivery) {
        @Override
        public String toString() {
            String shown = text.length() > 300 ? text.substring(0, 300) + "...(" + text.length() + " chars)" : text;
            return kind + " " + shown.replace("\u0000", "\\0") + " expecting " + outcomes + " id " + idRule
                    + (id == null ? "" : " " + id);
        }
    }

    enum IdRule {
        ECHO,
        ABSENT,
        ANY
    }

    /** A publish or broadcast whose message carries {@code marker}; {@code topic} null for a broadcast. */
    record Delivery(String marker, String topic, String frame, List<String> never) {}

    /**
     * Makes frames with a known answer (the oracle follows the README and the error vocabulary) and
     * mutations of them (anything from {@link ErrorCode}, an ack, or nothing).
     */
    static final class FrameGenerator {
        private final Random rnd;
        private final List<Supplier<Case>> kinds = new ArrayList<>();
        private int n;

        FrameGenerator(Random rnd) {
            this.rnd = rnd;
            weight(30, () -> valid("valid", marker("ok")));
            weight(22, this::mutated);
            weight(5, this::truncated);
            weight(4, this::deepNesting);
            weight(4, this::hugeNumber);
            weight(5, this::duplicateKeys);
            weight(10, this::wrongType);
            weight(5, this::longTopic);
            weight(5, this::controlCharacters);
            weight(5, this::notAnObject);
            weight(2, this::unknownAction);
            weight(3, this::otherEncoding);
        }

        private void weight(int w, Supplier<Case> kind) {
            for (int i = 0; i < w; i++) {
                kinds.add(kind);
            }
        }

        Case next(int n) {
            this.n = n;
            return kinds.get(rnd.nextInt(kinds.size())).get();
        }

        private String marker(String prefix) {
            return prefix + "-" + n;
        }

        // ---- valid frames

        /** A valid frame of any action, with random field order, spacing, extra fields and id. */
        Case valid(String kind, String marker) {
            String[] id = id();
            int action = rnd.nextInt(10);
            List<String[]> fields = new ArrayList<>();
            Delivery delivery = null;
            if (action < 2) {
                fields.add(f("action", q("subscribe")));
                fields.add(f("topic", q(TOPICS.get(rnd.nextInt(TOPICS.size())))));
            } else if (action < 3) {
                fields.add(f("action", q("unsubscribe")));
                fields.add(f("topic", q(rnd.nextBoolean() ? "x/y" : "ü/ñ"))); // never "t": the fuzz relies on it
            } else if (action < 8) {
                String topic = rnd.nextInt(4) == 0 ? "x/y" : "t";
                String message = message(marker, 3);
                fields.add(f("action", q("publish")));
                fields.add(f("topic", q(topic)));
                fields.add(f("message", message));
                delivery = new Delivery(marker, topic, publishPrefix(topic) + message + "}", List.of());
            } else {
                String message = message(marker, 3);
                fields.add(f("action", q("broadcast")));
                fields.add(f("message", message));
                delivery =
                        new Delivery(marker, null, "{\"action\":\"broadcast\",\"message\":" + message + "}", List.of());
            }
            if (rnd.nextInt(4) == 0) {
                fields.add(f("x" + rnd.nextInt(100), value(2)));
            }
            Collections.shuffle(fields, rnd);
            if (id != null) {
                fields.add(rnd.nextInt(fields.size() + 1), f("id", id[0]));
            }
            return new Case(
                    kind,
                    object(fields),
                    Set.of(id == null ? "none" : "ack"),
                    id == null ? IdRule.ABSENT : IdRule.ECHO,
                    id == null ? null : id[1],
                    delivery);
        }

        /** [json, text as echoed] or null for no id. */
        private String[] id() {
            return switch (rnd.nextInt(10)) {
                case 0, 1 -> null;
                case 2 -> new String[] {"1e400", "1e400"};
                case 3 -> {
                    String digits = "9".repeat(1 + rnd.nextInt(99));
                    yield new String[] {digits, digits};
                }
                case 4 -> {
                    String v = "-" + rnd.nextInt(1000) + "." + rnd.nextInt(1000) + "e-" + rnd.nextInt(20);
                    yield new String[] {v, v};
                }
                case 5 -> new String[] {"\"\\u00e9\\\"\\\\\\/\\n" + n + "\"", "é\"\\/\n" + n};
                case 6 -> new String[] {"\"\ud83d\ude00-" + n + "\"", "\ud83d\ude00-" + n};
                case 7 -> new String[] {"\"\"", ""};
                default -> new String[] {Integer.toString(n), Integer.toString(n)};
            };
        }

        /** A JSON object carrying {@code "k":marker} first (unspaced, so it can be found), then random members. */
        String message(String marker, int depth) {
            StringBuilder s = new StringBuilder("{\"k\":\"").append(marker).append('"');
            for (int i = rnd.nextInt(4); i > 0; i--) {
                s.append(',')
                        .append(ws())
                        .append('"')
                        .append(randomKey())
                        .append('"')
                        .append(ws())
                        .append(':')
                        .append(ws())
                        .append(value(depth))
                        .append(ws());
            }
            return s.append('}').toString();
        }

        private String value(int depth) {
            int pick = rnd.nextInt(depth <= 0 ? 6 : 8);
            return switch (pick) {
                case 0 -> q(randomText());
                case 1 -> Integer.toString(rnd.nextInt());
                case 2 ->
                    List.of("1e400", "-0", "0.0e-0", "1E+2", "-1.5e-300", "123456789012345678901234567890")
                            .get(rnd.nextInt(6));
                case 3 -> List.of("true", "false", "null").get(rnd.nextInt(3));
                case 4 -> q("");
                case 5 -> q("\\u0000\\u001f\\ud83d\\ude00\\u2028");
                case 6 -> {
                    List<String[]> fields = new ArrayList<>();
                    for (int i = rnd.nextInt(3); i > 0; i--) {
                        fields.add(f(randomKey(), value(depth - 1)));
                    }
                    yield object(fields);
                }
                default -> {
                    StringBuilder a = new StringBuilder("[");
                    for (int i = rnd.nextInt(3); i > 0; i--) {
                        a.append(value(depth - 1)).append(i > 1 ? "," + ws() : "");
                    }
                    yield a.append(']').toString();
                }
            };
        }

        private String randomKey() {
            return rnd.nextInt(5) == 0 ? "k" + rnd.nextInt(10) + "é" : "f" + rnd.nextInt(1000);
        }

        private String randomText() {
            String[] parts = {
                "a",
                "Z",
                "9",
                " ",
                "é",
                "中",
                "\ud83d\ude00",
                "\\\"",
                "\\\\",
                "\\/",
                "\\n",
                "\\t",
                "\\u00e9",
                "\\ud83d\\ude00",
                "<",
                "&",
                "'"
            };
            StringBuilder s = new StringBuilder();
            for (int i = rnd.nextInt(12); i > 0; i--) {
                s.append(parts[rnd.nextInt(parts.length)]);
            }
            return s.toString();
        }

        private String object(List<String[]> fields) {
            StringBuilder s = new StringBuilder("{").append(ws());
            for (int i = 0; i < fields.size(); i++) {
                if (i > 0) {
                    s.append(',').append(ws());
                }
                s.append(fields.get(i)[0])
                        .append(ws())
                        .append(':')
                        .append(ws())
                        .append(fields.get(i)[1])
                        .append(ws());
            }
            return s.append('}').toString();
        }

        /** JSON whitespace, mostly none. */
        private String ws() {
            return switch (rnd.nextInt(12)) {
                case 0 -> " ";
                case 1 -> "\n\t ";
                case 2 -> "\r\n";
                default -> "";
            };
        }

        private static String[] f(String name, String json) {
            return new String[] {"\"" + name + "\"", json};
        }

        private static String q(String text) {
            return "\"" + text + "\"";
        }

        // ---- mutations: anything goes, but only known answers may come back

        private Case mutated() {
            Case base = valid("mutated", marker("mut"));
            StringBuilder s = new StringBuilder(base.text());
            String[] inserts = {
                "{",
                "}",
                "[",
                "]",
                "\"",
                ":",
                ",",
                "\\",
                "0",
                "-",
                "e",
                ".",
                " ",
                "\u0000",
                "\u0001",
                "é",
                "\ud83d\ude00",
                "null",
                "\"action\"",
                "\"id\"",
                "\"topic\"",
                "\"message\"",
                "{}",
                "[]",
                "\"\\u",
                "1e400",
                "\u007f",
                "\u2028"
            };
            for (int m = 1 + rnd.nextInt(3); m > 0 && s.length() > 0; m--) {
                int at = safeIndex(s, rnd.nextInt(s.length() + 1));
                switch (rnd.nextInt(5)) {
                    case 0 -> { // delete a range
                        int end = safeIndex(s, Math.min(s.length(), at + 1 + rnd.nextInt(4)));
                        s.delete(at, Math.max(at, end));
                    }
                    case 1 -> s.insert(at, inserts[rnd.nextInt(inserts.length)]);
                    case 2 -> { // duplicate a range
                        int end = safeIndex(s, Math.min(s.length(), at + 1 + rnd.nextInt(20)));
                        s.insert(at, s.substring(at, Math.max(at, end)));
                    }
                    case 3 -> { // replace one character
                        if (at < s.length() && !Character.isSurrogate(s.charAt(at))) {
                            s.setCharAt(at, "{}[]\":,0a \\".charAt(rnd.nextInt(11)));
                        }
                    }
                    default -> s.insert(at, ",\"" + randomKey() + "\":" + value(1)); // a member in a random place
                }
            }
            return new Case("mutated", s.toString(), Set.of(ANY), IdRule.ANY, null, null);
        }

        /** Never split a surrogate pair: the JDK client cannot send a lone surrogate as text. */
        private static int safeIndex(StringBuilder s, int at) {
            return at > 0 && at < s.length() && Character.isLowSurrogate(s.charAt(at)) ? at - 1 : at;
        }

        // ---- frames with a known error

        private Case truncated() {
            Case base = valid("truncated", marker("never"));
            String text = base.text();
            int cut = rnd.nextInt(text.length()); // a strict prefix, possibly empty
            if (cut > 0 && Character.isLowSurrogate(text.charAt(cut))) {
                cut--;
            }
            return new Case(
                    "truncated",
                    text.substring(0, cut),
                    Set.of("EBODY_INVALID"),
                    IdRule.ANY,
                    null,
                    neverDelivered(base.delivery()));
        }

        private Case deepNesting() {
            int depth = List.of(65, 100, 1000, 10_000).get(rnd.nextInt(4));
            String id = Integer.toString(n);
            return switch (rnd.nextInt(4)) {
                case 0 -> new Case("deep-array", "[".repeat(depth), Set.of("EBODY_INVALID"), IdRule.ABSENT, null, null);
                case 1 ->
                    new Case(
                            "deep-array-closed",
                            "[".repeat(depth) + "]".repeat(depth),
                            Set.of("EBODY_INVALID"),
                            IdRule.ABSENT,
                            null,
                            null);
                case 2 ->
                    new Case(
                            "deep-message",
                            "{\"id\":" + id + ",\"action\":\"publish\",\"topic\":\"t\",\"message\":"
                                    + "{\"a\":".repeat(depth) + "1" + "}".repeat(depth) + "}",
                            Set.of("EBODY_INVALID"),
                            IdRule.ECHO,
                            id,
                            null);
                default -> {
                    // Within the bound (64 levels in all): accepted and delivered byte-for-byte.
                    String marker = marker("ok");
                    int d = 1 + rnd.nextInt(60);
                    String message = "{\"k\":\"" + marker + "\",\"n\":" + "[".repeat(d) + "]".repeat(d) + "}";
                    yield new Case(
                            "nested-within-bound",
                            "{\"action\":\"publish\",\"topic\":\"t\",\"message\":" + message + ",\"id\":" + id + "}",
                            Set.of("ack"),
                            IdRule.ECHO,
                            id,
                            new Delivery(marker, "t", publishPrefix("t") + message + "}", List.of()));
                }
            };
        }

        private Case hugeNumber() {
            String id = Integer.toString(n);
            String digits = "1" + "0".repeat(399);
            return switch (rnd.nextInt(5)) {
                case 0 ->
                    new Case(
                            "huge-int-id",
                            "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":" + digits + "}",
                            Set.of("EBODY_INVALID"),
                            IdRule.ABSENT,
                            null,
                            null);
                case 1 ->
                    new Case(
                            "huge-float-id",
                            "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":0." + digits + "}",
                            Set.of("EBODY_INVALID"),
                            IdRule.ABSENT,
                            null,
                            null);
                case 2 ->
                    new Case(
                            "huge-int-in-message",
                            "{\"id\":" + id + ",\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"k\":\"never-" + n
                                    + "\",\"n\":" + digits + "}}",
                            Set.of("EBODY_INVALID"),
                            IdRule.ECHO,
                            id,
                            new Delivery("never-" + n, "t", null, List.of()));
                case 3 ->
                    new Case(
                            "huge-exponent-id",
                            "{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":-1e-400}",
                            Set.of("ack"),
                            IdRule.ECHO,
                            "-1e-400",
                            null);
                default -> {
                    String marker = marker("ok");
                    String message = "{\"k\":\"" + marker + "\",\"big\":1e400,\"small\":-1E-400,\"long\":"
                            + "9".repeat(100) + "}";
                    yield new Case(
                            "huge-exponent-in-message",
                            "{\"action\":\"publish\",\"topic\":\"t\",\"id\":" + id + ",\"message\":" + message + "}",
                            Set.of("ack"),
                            IdRule.ECHO,
                            id,
                            new Delivery(marker, "t", publishPrefix("t") + message + "}", List.of()));
                }
            };
        }

        /**
         * Repeated members. Courier reads the last value of a repeated member (jackson's default);
         * refusing the frame (EBODY_INVALID) would be acceptable too. Either way never the first value.
         */
        private Case duplicateKeys() {
            String id = Integer.toString(n);
            String marker = marker("ok");
            String first = marker("never") + "0";
            String message = "{\"k\":\"" + marker + "\"}";
            return switch (rnd.nextInt(5)) {
                case 0 ->
                    new Case(
                            "dup-action-last-valid",
                            "{\"action\":\"dance\",\"action\":\"publish\",\"topic\":\"t\",\"message\":" + message
                                    + ",\"id\":" + id + "}",
                            Set.of("ack", "EBODY_INVALID"),
                            IdRule.ECHO,
                            id,
                            new Delivery(marker, "t", publishPrefix("t") + message + "}", List.of()));
                case 1 ->
                    new Case(
                            "dup-action-last-invalid",
                            "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"k\":\"" + first
                                    + "\"},\"action\":\"dance\",\"id\":" + id + "}",
                            Set.of("EACTION_INVALID", "EBODY_INVALID"),
                            IdRule.ECHO,
                            id,
                            new Delivery(first, "t", null, List.of()));
                case 2 ->
                    new Case(
                            "dup-topic",
                            "{\"action\":\"subscribe\",\"topic\":\"no such\",\"topic\":\"t\",\"id\":" + id + "}",
                            Set.of("ack", "EBODY_INVALID"),
                            IdRule.ECHO,
                            id,
                            null);
                case 3 ->
                    new Case(
                            "dup-id",
                            "{\"id\":\"first\",\"action\":\"subscribe\",\"topic\":\"t\",\"id\":\"second-" + id + "\"}",
                            Set.of("ack", "EBODY_INVALID"),
                            IdRule.ECHO,
                            "second-" + id,
                            null);
                default ->
                    new Case(
                            "dup-message",
                            "{\"action\":\"publish\",\"topic\":\"t\",\"message\":{\"k\":\"" + first + "\"},\"message\":"
                                    + message + ",\"id\":" + id + "}",
                            Set.of("ack", "EBODY_INVALID"),
                            IdRule.ECHO,
                            id,
                            new Delivery(marker, "t", publishPrefix("t") + message + "}", List.of(first)));
            };
        }

        /** One member of the wrong type, every member in turn. */
        private Case wrongType() {
            String[] wrong = {
                "42", "-1.5", "true", "false", "null", "{}", "[]", "{\"a\":[1]}", "[\"subscribe\"]", "\"\""
            };
            String bad = wrong[rnd.nextInt(wrong.length)];
            String id = Integer.toString(n);
            String field = List.of("action", "topic", "id", "message").get(rnd.nextInt(4));
            String action =
                    List.of("subscribe", "unsubscribe", "publish", "broadcast").get(rnd.nextInt(4));
            String marker = marker("ok");
            String message = "{\"k\":\"" + marker + "\"}";
            Map<String, String> fields = new LinkedHashMap<>();
            fields.put("id", id);
            fields.put("action", q(action));
            if (!action.equals("broadcast")) {
                fields.put("topic", q("t"));
            }
            if (action.equals("publish") || action.equals("broadcast")) {
                fields.put("message", message);
            }
            boolean dropInstead = rnd.nextInt(6) == 0 && !field.equals("id");
            if (dropInstead) {
                fields.remove(field);
            } else {
                fields.put(field, bad);
            }
            if (action.equals("unsubscribe")
                    && fields.containsKey("topic")
                    && fields.get("topic").equals(q("t"))) {
                fields.put("topic", q("x/y")); // never unsubscribe "t": the fuzz relies on it
            }
            String text = "{"
                    + fields.entrySet().stream()
                            .map(e -> "\"" + e.getKey() + "\":" + e.getValue())
                            .collect(Collectors.joining(","))
                    + "}";
            String kind = (dropInstead ? "missing-" : "wrong-type-") + field + "-" + action;
            boolean isString = bad.startsWith("\"");
            boolean isObject = bad.startsWith("{");
            boolean needsTopic = !action.equals("broadcast");
            boolean needsMessage = action.equals("publish") || action.equals("broadcast");
            Delivery delivery = needsMessage
                    ? new Delivery(
                            marker,
                            action.equals("publish") ? "t" : null,
                            (action.equals("publish") ? publishPrefix("t") : "{\"action\":\"broadcast\",\"message\":")
                                    + message + "}",
                            List.of())
                    : null;
            return switch (field) {
                case "action" ->
                    new Case(kind, text, Set.of("EACTION_INVALID"), IdRule.ECHO, id, neverDelivered(delivery));
                case "topic" ->
                    !needsTopic
                            ? new Case(kind, text, Set.of("ack"), IdRule.ECHO, id, delivery) // broadcast ignores topic
                            : new Case(kind, text, Set.of("ETOPIC_INVALID"), IdRule.ECHO, id, neverDelivered(delivery));
                case "id" ->
                    isString
                            ? new Case(kind, text, Set.of("ack"), IdRule.ECHO, "", delivery)
                            : bad.equals("42") || bad.equals("-1.5")
                                    ? new Case(kind, text, Set.of("ack"), IdRule.ECHO, bad, delivery)
                                    : new Case(
                                            kind,
                                            text,
                                            Set.of("EBODY_INVALID"),
                                            IdRule.ABSENT,
                                            null,
                                            neverDelivered(delivery));
                default ->
                    !needsMessage
                            ? new Case(kind, text, Set.of("ack"), IdRule.ECHO, id, null) // subscribe ignores message
                            : isObject && !dropInstead
                                    ? new Case(
                                            kind, text, Set.of("ack"), IdRule.ECHO, id, null) // any object is a message
                                    : new Case(
                                            kind,
                                            text,
                                            Set.of("EMESSAGE_INVALID"),
                                            IdRule.ECHO,
                                            id,
                                            neverDelivered(delivery));
            };
        }

        private Case longTopic() {
            String id = Integer.toString(n);
            String action = rnd.nextBoolean() ? "subscribe" : "publish";
            String tail = action.equals("publish") ? ",\"message\":{}" : "";
            return switch (rnd.nextInt(6)) {
                case 0 -> topicCase("topic-10KB", action, "a".repeat(10 * 1024), tail, "ETOPIC_INVALID", id);
                case 1 -> topicCase("topic-256", action, "b".repeat(256), tail, "ETOPIC_INVALID", id);
                case 2 ->
                    topicCase(
                            "topic-255-unknown",
                            action,
                            "c".repeat(254) + (char) ('a' + rnd.nextInt(26)),
                            tail,
                            "ETOPIC_NOTFOUND",
                            id);
                case 3 ->
                    topicCase(
                            "topic-255-astral-unknown",
                            action,
                            "\ud83d\ude00".repeat(255),
                            tail,
                            "ETOPIC_NOTFOUND",
                            id);
                case 4 -> topicCase("topic-256-astral", action, "\ud83d\ude00".repeat(256), tail, "ETOPIC_INVALID", id);
                default -> topicCase("topic-60KB", action, "d".repeat(60 * 1024), tail, "ETOPIC_INVALID", id);
            };
        }

        private Case controlCharacters() {
            String id = Integer.toString(n);
            String[] escaped = {
                "\\u0000", "\\u0001", "\\t", "\\n", "\\r", "\\u001f", "\\u007f", "\\u0085", "\\u00a0", "\\u2028",
                "\\u200b", "\\ufeff", "\\ud800", "\\udfff", " ", "\u3000", "\u00a0"
            };
            int pick = rnd.nextInt(escaped.length + 4);
            if (pick < escaped.length) {
                return topicCase(
                        "topic-control " + escaped[pick],
                        "subscribe",
                        "a" + escaped[pick] + "b",
                        "",
                        "ETOPIC_INVALID",
                        id);
            }
            char raw = (char) (1 + rnd.nextInt(0x1F));
            if (raw == '\t' || raw == '\n' || raw == '\r') {
                raw = 0x0B;
            }
            return switch (pick - escaped.length) {
                case 0 ->
                    new Case(
                            "raw-control-in-string",
                            "{\"id\":" + id + ",\"action\":\"subscribe\",\"topic\":\"a" + raw + "b\"}",
                            Set.of("EBODY_INVALID"),
                            IdRule.ECHO,
                            id,
                            null);
                case 1 ->
                    new Case(
                            "raw-control-between-tokens",
                            "{\"id\":" + id + "," + raw + "\"action\":\"subscribe\",\"topic\":\"t\"}",
                            Set.of("EBODY_INVALID"),
                            IdRule.ECHO,
                            id,
                            null);
                case 2 ->
                    new Case(
                            "raw-nul",
                            "\u0000{\"action\":\"subscribe\",\"topic\":\"t\"}",
                            Set.of("EBODY_INVALID"),
                            IdRule.ABSENT,
                            null,
                            null);
                default -> {
                    // Control characters escaped inside a message are just data.
                    String marker = marker("ok");
                    String message = "{\"k\":\"" + marker + "\",\"c\":\"\\u0000\\u0001\\u001f\\u007f\\b\\f\"}";
                    yield new Case(
                            "escaped-control-in-message",
                            "{\"action\":\"publish\",\"topic\":\"t\",\"message\":" + message + "}",
                            Set.of("none"),
                            IdRule.ABSENT,
                            null,
                            new Delivery(marker, "t", publishPrefix("t") + message + "}", List.of()));
                }
            };
        }

        private Case topicCase(String kind, String action, String topic, String tail, String code, String id) {
            return new Case(
                    kind,
                    "{\"id\":" + id + ",\"action\":\"" + action + "\",\"topic\":\"" + topic + "\"" + tail + "}",
                    Set.of(code),
                    IdRule.ECHO,
                    id,
                    null);
        }

        private Case notAnObject() {
            String[][] cases = {
                {"", "EBODY_INVALID"},
                {" ", "EBODY_INVALID"},
                {"\n\t\r ", "EBODY_INVALID"},
                {"null", "EBODY_INVALID"},
                {"[]", "EBODY_INVALID"},
                {"[{\"action\":\"subscribe\",\"topic\":\"t\"}]", "EBODY_INVALID"},
                {"1", "EBODY_INVALID"},
                {"\"subscribe\"", "EBODY_INVALID"},
                {"true", "EBODY_INVALID"},
                {"{}", "EACTION_INVALID"},
                {"{} {}", "EBODY_INVALID"},
                {"{}x", "EBODY_INVALID"},
                {"{\"action\":\"subscribe\",\"topic\":\"t\",}", "EBODY_INVALID"},
                {"{'action':'subscribe'}", "EBODY_INVALID"},
                {"{action:\"subscribe\"}", "EBODY_INVALID"},
                {"/* c */{\"action\":\"subscribe\",\"topic\":\"t\"}", "EBODY_INVALID"},
                {"{\"action\":\"subscribe\",\"topic\":\"t\"}//", "EBODY_INVALID"},
                {"{\"id\":NaN}", "EBODY_INVALID"},
                {"{\"id\":Infinity}", "EBODY_INVALID"},
                {"{\"id\":01}", "EBODY_INVALID"},
                {"{\"id\":+1}", "EBODY_INVALID"},
                {"{\"id\":.5}", "EBODY_INVALID"},
                {"{\"action\":\"subscribe\"\"topic\":\"t\"}", "EBODY_INVALID"},
                {"{\"action\"}", "EBODY_INVALID"},
                {"{\"a\\x\":1}", "EBODY_INVALID"},
                {"{\"a\\u12\":1}", "EBODY_INVALID"},
                {"}", "EBODY_INVALID"},
                {"{", "EBODY_INVALID"},
                {"\"", "EBODY_INVALID"},
                {"{\"action\":\"subscribe\",\"topic\":\"t\",\"id\":1}{\"x\":1}", "EBODY_INVALID"},
            };
            String[] c = cases[rnd.nextInt(cases.length)];
            return new Case(
                    "not-an-object",
                    c[0],
                    Set.of(c[1]),
                    c[0].contains("\"id\":1}") ? IdRule.ECHO : IdRule.ABSENT,
                    c[0].contains("\"id\":1}") ? "1" : null,
                    null);
        }

        private Case unknownAction() {
            String id = Integer.toString(n);
            String[] actions = {
                "SUBSCRIBE",
                " subscribe",
                "subscribe ",
                "publish\\u0000",
                "",
                "ack",
                "error",
                "connected",
                "x".repeat(10_000),
                "\ud83d\ude00".repeat(40),
                "a" + "\ud83d\ude00".repeat(40),
                "é".repeat(70)
            };
            String action = actions[rnd.nextInt(actions.length)];
            return new Case(
                    "unknown-action",
                    "{\"id\":" + id + ",\"action\":\"" + action + "\",\"topic\":\"t\",\"message\":{}}",
                    Set.of("EACTION_INVALID"),
                    IdRule.ECHO,
                    id,
                    null);
        }

        /**
         * JSON in UTF-16 or UTF-32 is still valid UTF-8 on the wire (ASCII plus NUL bytes) and jackson
         * detects such encodings. The README does not say what happens; any known answer will do, and a
         * delivery must still be well-formed.
         */
        private Case otherEncoding() {
            Case base = valid("encoding", marker("enc"));
            String text = base.text().replaceAll("[^\\x20-\\x7e]", "");
            if (rnd.nextInt(4) == 0) {
                // A UTF-8 byte order mark, which jackson skips.
                return new Case("utf8-bom", "\ufeff" + text, Set.of(ANY), IdRule.ANY, null, null);
            }
            StringBuilder s = new StringBuilder();
            int width = rnd.nextBoolean() ? 2 : 4;
            boolean little = rnd.nextBoolean();
            for (char ch : text.toCharArray()) {
                if (!little) {
                    s.append("\u0000".repeat(width - 1));
                }
                s.append(ch);
                if (little) {
                    s.append("\u0000".repeat(width - 1));
                }
            }
            return new Case(
                    "utf" + (8 * width) + (little ? "le" : "be"), s.toString(), Set.of(ANY), IdRule.ANY, null, null);
        }

        private static Delivery neverDelivered(Delivery d) {
            return d == null ? null : new Delivery(d.marker(), d.topic(), null, List.of());
        }
    }
}
