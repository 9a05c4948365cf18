package io.courier.logging;

/**
 * Escaping for log output, so that a client's text (an action, a topic, an audience, a close reason, an
 * exception message) can neither end a line nor add a field. Everything that could break a line for
 * some reader is escaped: C0 controls (LF, CR, VT, FF, ...), DEL, C1 controls (NEL U+0085 among them)
 * and the Unicode line and paragraph separators U+2028/U+2029 (Python's {@code splitlines} breaks on all
 * of them). Unpaired surrogates are escaped too, so the log keeps the exact value rather than a '?'.
 * Any thread; stateless.
 */
final class LogText {
    private LogText() {}

    /** Appends {@code value} as a logfmt quoted string: {@code "..."} with backslash escapes. */
    static void appendQuoted(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            switch (ch) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (Character.isHighSurrogate(ch)
                            && i + 1 < value.length()
                            && Character.isLowSurrogate(value.charAt(i + 1))) {
                        out.append(ch).append(value.charAt(++i));
                    } else if (needsUnicodeEscape(ch)) {
                        appendUnicodeEscape(out, ch);
                    } else {
                        out.append(ch);
                    }
                }
            }
        }
        out.append('"');
    }

    /** Appends {@code value} bare when it is plain printable ASCII without quote, backslash, '=' or space; quoted otherwise. */
    static void appendBareOrQuoted(StringBuilder out, String value) {
        if (value.isEmpty()) {
            out.append("\"\"");
            return;
        }
        for (int i = 0; i < value.length(); i++) {
            char ch = value.charAt(i);
            if (ch <= ' ' || ch >= 0x7f || ch == '"' || ch == '\\' || ch == '=') {
                appendQuoted(out, value);
                return;
            }
        }
        out.append(value);
    }

    /** Appends a field name: letters, digits, '_', '.', '-'; anything else becomes '_' so a key cannot carry a value. */
    static void appendKey(StringBuilder out, String key) {
        if (key == null || key.isEmpty()) {
            out.append('_');
            return;
        }
        for (int i = 0; i < key.length(); i++) {
            char ch = key.charAt(i);
            boolean plain = (ch >= 'a' && ch <= 'z')
                    || (ch >= 'A' && ch <= 'Z')
                    || (ch >= '0' && ch <= '9')
                    || ch == '_'
                    || ch == '.'
                    || ch == '-';
            out.append(plain ? ch : '_');
        }
    }

    /** True for C0, DEL, C1, U+2028, U+2029 and any surrogate (callers pass pairs through first). */
    static boolean needsUnicodeEscape(int ch) {
        return ch < 0x20
                || (ch >= 0x7f && ch <= 0x9f)
                || ch == 0x2028
                || ch == 0x2029
                || (ch >= 0xd800 && ch <= 0xdfff);
    }

    static void appendUnicodeEscape(StringBuilder out, int ch) {
        out.append("\\u");
        String hex = Integer.toHexString(ch);
        for (int pad = hex.length(); pad < 4; pad++) {
            out.append('0');
        }
        out.append(hex);
    }
}
