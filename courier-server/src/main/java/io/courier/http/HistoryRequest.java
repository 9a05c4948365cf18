package io.courier.http;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.courier.config.Config;
import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.json.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * The {@code history} member of a {@code POST /v1/topic} body: {@code {"size":100,"ttl":300}}, either
 * member optional (the server's default fills it), {@code null} or absent for the defaults. Anything
 * else, or a value past the server's maxima, is refused with 422 EHISTORY_INVALID naming the field.
 * The rest of the body is read by {@link Exchange#jsonBody}, which has already refused malformed JSON.
 */
final class HistoryRequest {
    private HistoryRequest() {}

    static HistorySettings read(ByteBuf body, Config.HistoryConfig limits) {
        try (JsonParser p = Json.FACTORY.createParser((InputStream) new ByteBufInputStream(body.duplicate()))) {
            p.nextToken(); // START_OBJECT, checked by jsonBody
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("history")) {
                    return value == JsonToken.VALUE_NULL ? limits.defaults() : settings(p, value, limits);
                }
                p.skipChildren();
            }
            return limits.defaults();
        } catch (IOException e) {
            throw new CourierException(ErrorCode.EBODY_INVALID, "malformed JSON: " + Json.describe(e));
        }
    }

    private static HistorySettings settings(JsonParser p, JsonToken value, Config.HistoryConfig limits)
            throws IOException {
        if (value != JsonToken.START_OBJECT) {
            throw invalid("history must be an object such as {\"size\":100,\"ttl\":300}");
        }
        // A topic asking for history without saying how long gets the default ttl even when the
        // default size is 0 (the ttl key always has a value).
        long size = limits.defaultSize();
        long ttl = -1;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String name = p.currentName();
            JsonToken token = p.nextToken();
            switch (name) {
                case "size" -> size = integer(p, token, "history.size");
                case "ttl" -> ttl = integer(p, token, "history.ttl");
                default -> throw invalid("unknown field history." + truncate(name) + " (expected: size, ttl)");
            }
        }
        if (size < 0 || size > limits.maxSize()) {
            throw invalid("history.size " + size + " (expected: 0-" + limits.maxSize() + ")");
        }
        if (ttl == -1) {
            ttl = limits.defaultTtlSeconds();
        }
        if (ttl < 1 || ttl > limits.maxTtlSeconds()) {
            throw invalid("history.ttl " + ttl + " (expected: 1-" + limits.maxTtlSeconds() + " seconds)");
        }
        return size == 0 ? HistorySettings.NONE : new HistorySettings((int) size, (int) ttl);
    }

    private static long integer(JsonParser p, JsonToken token, String field) throws IOException {
        if (token != JsonToken.VALUE_NUMBER_INT) {
            throw invalid(field + " must be an integer");
        }
        if (p.getNumberType() != JsonParser.NumberType.INT && p.getNumberType() != JsonParser.NumberType.LONG) {
            throw invalid(field + " is out of range");
        }
        long value = p.getLongValue();
        return value < 0 ? -2 : value; // refused below; -1 stands for "absent"
    }

    private static CourierException invalid(String message) {
        return new CourierException(ErrorCode.EHISTORY_INVALID, message);
    }

    private static String truncate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }
}
