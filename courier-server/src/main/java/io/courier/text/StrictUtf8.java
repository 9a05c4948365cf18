package io.courier.text;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * UTF-8 with errors reported, for every string that identifies something. {@code String.getBytes(UTF_8)}
 * and {@code new String(bytes, UTF_8)} silently replace what they cannot code ({@code ?} or U+FFFD), so
 * two different names could come out as the same bytes; these methods throw instead. A fresh coder per
 * call (coders are not thread-safe); callers are not on a per-message path. Any thread.
 */
public final class StrictUtf8 {
    private StrictUtf8() {}

    /** @throws IllegalArgumentException when {@code s} holds an unpaired surrogate */
    public static byte[] encode(String s) {
        try {
            ByteBuffer bytes = StandardCharsets.UTF_8
                    .newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(s));
            byte[] out = new byte[bytes.remaining()];
            bytes.get(out);
            return out;
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not encodable as UTF-8: " + Names.problem(s), e);
        }
    }

    /** @throws IllegalArgumentException when {@code bytes} are not well-formed UTF-8 */
    public static String decode(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("not well-formed UTF-8 (" + bytes.length + " bytes)", e);
        }
    }
}
