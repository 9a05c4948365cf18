package io.courier.cluster;

import io.courier.text.StrictUtf8;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * NATS subjects for audiences and topics: {@code courier.m.<audience>.<topic>} carries publishes to
 * one topic, {@code courier.b.<audience>} an audience's broadcasts.
 *
 * <p>A NATS subject token may not hold {@code .}, {@code *}, {@code >}, whitespace or NUL, and should
 * stay in {@code [A-Za-z0-9_-]} (nats.docs, nats-concepts/subjects.md). A name becomes a token by its
 * UTF-8 bytes: {@code [A-Za-z0-9-]} stay as they are, every other byte (the escape character
 * {@code _} included) becomes {@code _HH} with two upper-case hex digits. So {@code _} in a token is
 * always followed by two hex digits, the mapping is one-to-one and {@link #unescape} reverses it:
 * {@code a.b} is {@code a_2Eb}, {@code _41} is {@code _5F41}, {@code %41} is {@code _2541}.
 *
 * <p>Names are at most 255 characters, up to 765 escaped, but a subject should stay under 256
 * characters. An escaped name longer than {@link #MAX_TOKEN_CHARS} becomes {@code _Z} and the
 * SHA-256 of its escaped form in lower-case hex: {@code Z} is not a hex digit, so no escaped name
 * can look like a hashed one. The receiver checks the real names, carried escaped in headers, so
 * not even a hash collision could cross names. Any thread; stateless.
 */
public final class Subjects {
    /** Longest token kept readable; 10 + 100 + 1 + 100 keeps every subject under 256 characters. */
    public static final int MAX_TOKEN_CHARS = 100;

    private static final String MESSAGE_PREFIX = "courier.m.";
    private static final String BROADCAST_PREFIX = "courier.b.";
    static final String STORED_PREFIX = "courier.h.";
    private static final char ESCAPE = '_';
    private static final String HASHED = "_Z";
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();

    private Subjects() {}

    /** The subject of publishes to {@code topic} in {@code audience}. */
    public static String message(String audience, String topic) {
        return MESSAGE_PREFIX + token(audience) + '.' + token(topic);
    }

    /**
     * The subject a history topic's publishes are stored under in JetStream, {@code courier.h.…};
     * the stream republishes each to {@link #message}'s subject, with its sequence numbers.
     */
    public static String stored(String audience, String topic) {
        return STORED_PREFIX + token(audience) + '.' + token(topic);
    }

    /** The subject of broadcasts to {@code audience}. */
    public static String broadcast(String audience) {
        return BROADCAST_PREFIX + token(audience);
    }

    /** The subject token for {@code name}: its escaped form, or a hash of it when that is too long. */
    public static String token(String name) {
        String escaped = escape(name);
        return escaped.length() <= MAX_TOKEN_CHARS ? escaped : hashed(escaped);
    }

    /**
     * Every UTF-8 byte of {@code name} outside {@code [A-Za-z0-9-]} as {@code _HH}; the result is
     * plain ASCII, fit for a subject token and a NATS header value.
     *
     * @throws IllegalArgumentException when {@code name} is empty or holds an unpaired surrogate
     */
    public static String escape(String name) {
        if (name.isEmpty()) {
            throw new IllegalArgumentException("name: \"\" (expected: at least one character)");
        }
        byte[] utf8 = StrictUtf8.encode(name);
        StringBuilder out = new StringBuilder(utf8.length + 8);
        for (byte b : utf8) {
            int c = b & 0xFF;
            if (isPlain(c)) {
                out.append((char) c);
            } else {
                out.append(ESCAPE).append(HEX[c >>> 4]).append(HEX[c & 0xF]);
            }
        }
        return out.toString();
    }

    /**
     * The name {@code escaped} came from.
     *
     * @throws IllegalArgumentException for a hashed token or anything {@link #escape} cannot produce
     */
    public static String unescape(String escaped) {
        if (escaped.isEmpty() || escaped.startsWith(HASHED)) {
            throw new IllegalArgumentException("token: " + escaped + " (expected: an escaped name, not a hash)");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(escaped.length());
        for (int i = 0; i < escaped.length(); i++) {
            char c = escaped.charAt(i);
            if (c == ESCAPE) {
                int hi = i + 2 < escaped.length() ? hexValue(escaped.charAt(i + 1)) : -1;
                int lo = hi < 0 ? -1 : hexValue(escaped.charAt(i + 2));
                if (lo < 0 || isPlain(hi << 4 | lo)) {
                    throw new IllegalArgumentException(
                            "token: " + escaped + " (expected: _ followed by the hex of an escaped byte at " + i + ")");
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c < 128 && isPlain(c)) {
                bytes.write(c);
            } else {
                throw new IllegalArgumentException("token: " + escaped + " (expected: [A-Za-z0-9_-] only)");
            }
        }
        return StrictUtf8.decode(bytes.toByteArray());
    }

    /** True for a token {@link #token} hashed because the escaped name was too long. */
    public static boolean isHashed(String token) {
        return token.startsWith(HASHED);
    }

    private static String hashed(String escaped) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(StrictUtf8.encode(escaped));
            StringBuilder out = new StringBuilder(HASHED.length() + 64).append(HASHED);
            for (byte b : digest) {
                out.append(Character.forDigit((b >>> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return out.toString();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static boolean isPlain(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
    }

    /** 0-15 for an upper-case hex digit (the only case {@link #escape} writes), else -1. */
    private static int hexValue(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    }
}
