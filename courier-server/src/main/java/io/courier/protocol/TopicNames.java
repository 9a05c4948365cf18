package io.courier.protocol;

import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.text.Names;

/**
 * The rule for topic names, shared by REST and socket: a {@link Names name} (well-formed Unicode, no
 * control characters) of 1..255 code points, and on top of that no whitespace or format characters.
 * Topics are compared as exact code-point sequences, without normalization.
 */
public final class TopicNames {
    public static final int MAX_LENGTH = 255;

    private TopicNames() {}

    public static String validate(String topic) {
        if (topic == null) {
            throw new CourierException(ErrorCode.ETOPIC_INVALID, "topic is required and must be a string");
        }
        String problem = Names.problem(topic);
        if (problem != null) {
            throw new CourierException(ErrorCode.ETOPIC_INVALID, "topic is not a valid name: " + problem);
        }
        int length = topic.codePointCount(0, topic.length());
        if (length == 0 || length > MAX_LENGTH) {
            throw new CourierException(
                    ErrorCode.ETOPIC_INVALID, "topic must be 1-" + MAX_LENGTH + " characters, got " + length);
        }
        for (int i = 0; i < topic.length(); ) {
            int cp = topic.codePointAt(i);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.getType(cp) == Character.FORMAT) {
                throw new CourierException(
                        ErrorCode.ETOPIC_INVALID,
                        "topic must not contain whitespace or control characters (at index " + i + ")");
            }
            i += Character.charCount(cp);
        }
        return topic;
    }
}
