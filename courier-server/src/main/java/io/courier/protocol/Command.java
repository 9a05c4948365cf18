package io.courier.protocol;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.courier.json.Json;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * One decoded client request, from a socket text frame or a hook body:
 * {@code {"action":"publish","topic":"t","message":{...},"id":7}}.
 *
 * <p>The {@code message} object is not parsed into anything: the decoder streams over it to find
 * where it starts and ends, so the hub can copy those exact bytes into the outbound frame.
 * A request that cannot be honoured still yields a {@code Command} carrying its {@link #error()}
 * and whatever {@code id} was readable, so the error frame can echo the id.
 */
public final class Command {
    private Action action;
    private String topic;
    private String id;
    private boolean idIsString;
    private int messageStart = -1;
    private int messageEnd = -1;
    /** The subscriber's position, {@code since}: offset -1 when absent. */
    private long sinceOffset = -1;

    private String sinceEpoch;
    /** Why {@code since} is unusable, or null; refused only on a subscribe (other actions ignore it). */
    private String sinceProblem;

    private CourierException error;

    private Command() {}

    /** Decodes {@code json} (not consumed). Never throws for bad input; see {@link #error()}. */
    public static Command decode(ByteBuf json) {
        Command c = new Command();
        try {
            c.read(json);
            c.validate();
        } catch (CourierException e) {
            c.error = e;
        } catch (IOException e) {
            c.error = new CourierException(ErrorCode.EBODY_INVALID, "malformed JSON: " + Json.describe(e));
        }
        return c;
    }

    private void read(ByteBuf json) throws IOException {
        String actionName = null;
        boolean sawAction = false;
        boolean sawTopic = false;
        boolean topicNotString = false;
        boolean sawMessage = false;
        try (JsonParser p = Json.FACTORY.createParser((InputStream) new ByteBufInputStream(json.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CourierException(ErrorCode.EBODY_INVALID, "expected a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken value = p.nextToken();
                switch (field) {
                    case "action" -> {
                        sawAction = true;
                        actionName = value == JsonToken.VALUE_STRING ? p.getText() : null;
                    }
                    case "topic" -> {
                        sawTopic = true;
                        topicNotString = value != JsonToken.VALUE_STRING;
                        topic = topicNotString ? null : p.getText();
                    }
                    case "id" -> readId(p, value);
                    case "since" -> readSince(p, value);
                    case "message" -> {
                        sawMessage = true;
                        if (value == JsonToken.START_OBJECT) {
                            messageStart = (int) p.currentTokenLocation().getByteOffset();
                            p.skipChildren();
                            messageEnd = (int) p.currentLocation().getByteOffset();
                        } else {
                            messageStart = messageEnd = -1;
                        }
                    }
                    default -> {}
                }
                p.skipChildren();
            }
            if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new CourierException(ErrorCode.EBODY_INVALID, "unexpected content after the JSON object");
            }
        }
        if (!sawAction || actionName == null) {
            throw new CourierException(
                    ErrorCode.EACTION_INVALID, sawAction ? "action must be a string" : "action is required");
        }
        action = Action.of(actionName);
        if (action == null) {
            throw new CourierException(
                    ErrorCode.EACTION_INVALID,
                    "unknown action '" + truncate(actionName)
                            + "' (expected: subscribe, unsubscribe, publish, broadcast)");
        }
        if (action.needsTopic() && (!sawTopic || topicNotString)) {
            throw new CourierException(
                    ErrorCode.ETOPIC_INVALID,
                    sawTopic ? "topic must be a string" : "topic is required for " + actionName);
        }
        if (action.needsMessage() && (!sawMessage || messageStart < 0)) {
            throw new CourierException(
                    ErrorCode.EMESSAGE_INVALID,
                    sawMessage ? "message must be a JSON object" : "message is required for " + actionName);
        }
    }

    private void readId(JsonParser p, JsonToken value) throws IOException {
        if (value == JsonToken.VALUE_STRING) {
            id = p.getText();
            idIsString = true;
        } else if (value == JsonToken.VALUE_NUMBER_INT || value == JsonToken.VALUE_NUMBER_FLOAT) {
            id = p.getText();
            idIsString = false;
        } else {
            throw new CourierException(ErrorCode.EBODY_INVALID, "id must be a string or a number");
        }
    }

    /** {@code {"offset":41,"epoch":"..."}}: a non-negative integer offset and a string epoch, nothing else. */
    private void readSince(JsonParser p, JsonToken value) throws IOException {
        sinceOffset = -1;
        sinceEpoch = null;
        sinceProblem = null;
        if (value != JsonToken.START_OBJECT) {
            sinceProblem = "since must be an object {\"offset\":…,\"epoch\":\"…\"}";
            return;
        }
        long offset = -1;
        String epoch = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String field = p.currentName();
            JsonToken token = p.nextToken();
            if (field.equals("offset")
                    && token == JsonToken.VALUE_NUMBER_INT
                    && (p.getNumberType() == JsonParser.NumberType.INT
                            || p.getNumberType() == JsonParser.NumberType.LONG)
                    && p.getLongValue() >= 0) {
                offset = p.getLongValue();
            } else if (field.equals("epoch") && token == JsonToken.VALUE_STRING) {
                epoch = p.getText();
            } else {
                sinceProblem = "since." + truncate(field)
                        + " is not allowed here (expected: offset, a non-negative integer, and epoch, a string)";
            }
            p.skipChildren();
        }
        if (sinceProblem == null && (offset < 0 || epoch == null)) {
            sinceProblem = "since needs both offset and epoch";
        }
        if (sinceProblem == null) {
            sinceOffset = offset;
            sinceEpoch = epoch;
        }
    }

    private void validate() {
        if (action.needsTopic()) {
            TopicNames.validate(topic);
        }
        if (action == Action.SUBSCRIBE && sinceProblem != null) {
            throw new CourierException(ErrorCode.EHISTORY_INVALID, sinceProblem);
        }
    }

    private static String truncate(String s) {
        return s.length() <= 64 ? s : s.substring(0, 64) + "...";
    }

    public boolean failed() {
        return error != null;
    }

    public CourierException error() {
        return error;
    }

    /** Null when decoding failed before the action was known. */
    public Action action() {
        return action;
    }

    public String topic() {
        return topic;
    }

    /** The request id as written (a string's text or a number's digits), or null. */
    public String id() {
        return id;
    }

    public boolean idIsString() {
        return idIsString;
    }

    /** True when a subscribe carried where the client left off ({@code since}). */
    public boolean hasSince() {
        return sinceEpoch != null;
    }

    /** The offset of {@code since}; meaningful when {@link #hasSince}. */
    public long sinceOffset() {
        return sinceOffset;
    }

    /** The epoch of {@code since}, or null. */
    public String sinceEpoch() {
        return sinceEpoch;
    }

    /** The bytes of the message object inside {@code json}, as a slice sharing its memory (not retained). */
    public ByteBuf message(ByteBuf json) {
        return json.slice(json.readerIndex() + messageStart, messageEnd - messageStart);
    }
}
