package io.courier.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;

/**
 * jackson-core streaming helpers shared by the REST API and the socket protocol: the one bounded
 * {@link JsonFactory}, writing a JSON value straight into a buffer, and describing a parse error
 * without echoing the client's bytes. Any thread.
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

    private Json() {}

    /** Writes one JSON value into a new buffer from {@code alloc}. */
    public static ByteBuf write(ByteBufAllocator alloc, Writer writer) {
        ByteBuf buf = alloc.buffer(128);
        try (JsonGenerator gen = FACTORY.createGenerator((OutputStream) new ByteBufOutputStream(buf))) {
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

    /** Jackson's message without the source excerpt (which would echo the client's bytes). */
    public static String describe(IOException e) {
        String text = e instanceof JsonProcessingException jpe ? jpe.getOriginalMessage() : e.getMessage();
        return text == null ? "unreadable" : text.replaceAll("\\s+", " ");
    }

    @FunctionalInterface
    public interface Writer {
        void write(JsonGenerator gen) throws IOException;
    }
}
