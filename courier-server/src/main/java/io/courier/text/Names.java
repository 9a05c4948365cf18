package io.courier.text;

/**
 * The one rule every name that identifies something obeys, whoever checks it (the JWT verifier for
 * {@code aud} and {@code sub}, the connection keys, {@link io.courier.protocol.TopicNames} for topics):
 * well-formed Unicode (no unpaired surrogate) with no control character (C0 including NUL, DEL, C1).
 *
 * <p>Why: a lone surrogate cannot be encoded to UTF-8, and encoders that replace it with {@code ?}
 * made {@code tenant\ud800} and {@code tenant?} one audience (issue 10); PostgreSQL refuses NUL in
 * text outright, and control characters forge log lines. Names that pass are compared as exact
 * code-point sequences: no normalization, no case folding, so {@code é} (U+00E9) and {@code e}+U+0301
 * are two names. Callers add their own rules (length, whitespace) and choose the error code.
 */
public final class Names {
    private Names() {}

    /** True when {@code name} is non-null and obeys the rule (the empty string does; callers bound length). */
    public static boolean isValid(String name) {
        return name != null && problem(name) == null;
    }

    /**
     * Null when {@code name} obeys the rule, otherwise what is wrong and where (a UTF-16 index), without
     * echoing the name: the message goes back to clients and into logs.
     */
    public static String problem(String name) {
        if (name == null) {
            return "missing";
        }
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (Character.isHighSurrogate(ch)) {
                if (i + 1 < name.length() && Character.isLowSurrogate(name.charAt(i + 1))) {
                    i++; // a pair: one supplementary code point, which is fine
                    continue;
                }
                return "unpaired surrogate U+" + hex(ch) + " at index " + i + " (expected: well-formed Unicode)";
            }
            if (Character.isLowSurrogate(ch)) {
                return "unpaired surrogate U+" + hex(ch) + " at index " + i + " (expected: well-formed Unicode)";
            }
            // U+0000-U+001F, U+007F and U+0080-U+009F.
            if (Character.isISOControl(ch)) {
                return "control character U+" + hex(ch) + " at index " + i + " (expected: none)";
            }
        }
        return null;
    }

    private static String hex(char ch) {
        return String.format("%04X", (int) ch);
    }
}
