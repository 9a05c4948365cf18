package io.courier.protocol;

import io.courier.error.CourierException;
import io.courier.error.ErrorCode;

/** The rule for topic names, shared by REST and socket: 1..255 characters, no whitespace or control characters. */
public final class TopicNames {
    public static final int MAX_LENGTH = 255;

    private TopicNames() {
    }

    public static String validate(String topic) {
        if (topic == null) {
            throw new CourierException(ErrorCode.ETOPIC_INVALID, "topic is required and must be a string");
        }
        int length = topic.codePointCount(0, topic.length());
        if (length == 0 || length > MAX_LENGTH) {
            throw new CourierException(ErrorCode.ETOPIC_INVALID, "topic must be 1-" + MAX_LENGTH + " characters, got " + length);
        }
        for (int i = 0; i < topic.length(); ) {
            int cp = topic.codePointAt(i);
            if (Character.isWhitespace(cp) || Character.isSpaceChar(cp) || Character.isISOControl(cp)
                    || Character.getType(cp) == Character.FORMAT || Character.getType(cp) == Character.SURROGATE) {
                throw new CourierException(ErrorCode.ETOPIC_INVALID, "topic must not contain whitespace or control characters (at index " + i + ")");
            }
            i += Character.charCount(cp);
        }
        return topic;
    }
}
