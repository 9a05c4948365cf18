package io.courier.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.courier.error.CourierException;
import io.courier.error.ErrorCode;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufInputStream;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

/**
 * jackson-core streaming helpers for the REST API: write a JSON value straight into a pooled
 * buffer, and read the flat request objects the API accepts. Any thread.
 */
public final class Json {
    /** Shared, thread-safe. Nesting and string lengths are bounded before they cost memory. */
    public static final JsonFactory FACTORY = JsonFactory.builder()
            .streamReadConstraints(StreamReadConstraints.builder()
                    .maxNestingDepth(64)
                    .maxStringLength(1 << 20)
                    .maxNumberLength(100)
                    .build())
            .build();

    private Json() {
    }

    /** Writes one JSON value into a new buffer from {@code alloc}. */
    public static ByteBuf write(ByteBufAllocator alloc, Writer writer) {
        ByteBuf buf = alloc.buffer(128);
        try (JsonGenerator gen = FACTORY.createGenerator((java.io.OutputStream) new ByteBufOutputStream(buf))) {
            writer.write(gen);
        } catch (IOException e) {
            buf.release();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        return buf;
    }

    /**
     * Reads a request body that must be one JSON object and returns its top-level string fields
     * (other values are kept as {@code null} so a wrong type can be reported per field).
     * Malformed JSON or a non-object becomes EBODY_INVALID.
     */
    public static Map<String, String> readFlatObject(ByteBuf body) {
        try (JsonParser p = FACTORY.createParser((java.io.InputStream) new ByteBufInputStream(body.duplicate()))) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CourierException(ErrorCode.EBODY_INVALID, "request body must be a JSON object");
            }
            Map<String, String> fields = new HashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                fields.put(name, value == JsonToken.VALUE_STRING ? p.getText() : null);
                p.skipChildren();
            }
            if (p.nextToken() != null) {
                throw new CourierException(ErrorCode.EBODY_INVALID, "unexpected content after the JSON object");
            }
            return fields;
        } catch (IOException e) {
            throw new CourierException(ErrorCode.EBODY_INVALID, "malformed JSON: " + describe(e));
        }
    }

    /** Jackson's message without the source excerpt (which would echo the client's bytes). */
    public static String describe(IOException e) {
        String text = e instanceof com.fasterxml.jackson.core.JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
        return text == null ? "unreadable" : text.replaceAll("\\s+", " ");
    }

    @FunctionalInterface
    public interface Writer {
        void write(JsonGenerator gen) throws IOException;
    }
}
