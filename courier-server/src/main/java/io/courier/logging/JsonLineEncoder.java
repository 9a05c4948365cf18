package io.courier.logging;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.io.CharacterEscapes;
import com.fasterxml.jackson.core.io.SerializedString;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.slf4j.event.KeyValuePair;

/**
 * One JSON object per line, with the field names of logback's {@code JsonEncoder} as Courier
 * configured it ({@code timestamp}, {@code level}, {@code threadName}, {@code loggerName}, {@code mdc},
 * {@code kvpList}, {@code formattedMessage}, {@code throwable}), so existing parsers keep working.
 *
 * <p>Why not logback's own: measured with logback 1.5.38 ({@code LogLinesTest}), it escapes C0 controls
 * but writes NEL (U+0085), U+2028, U+2029 and DEL raw (line breaks to Python's {@code splitlines} and some
 * viewers), and turns an unpaired surrogate into '?'. jackson-core with the escapes below writes every
 * one of those as {@code \}{@code uXXXX}, so one event is one line and every value round-trips. Any thread;
 * the factory is thread-safe and each call has its own generator.
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {
    private static final JsonFactory FACTORY = new JsonFactory();
    private static final byte[] NONE = new byte[0];

    /** Escapes for what jackson writes raw by default: DEL, C1, U+2028, U+2029 (it already escapes C0 and lone surrogates). */
    private static final CharacterEscapes LINE_SAFE = new CharacterEscapes() {
        private final int[] ascii = asciiEscapes();

        @Override
        public int[] getEscapeCodesForAscii() {
            return ascii;
        }

        @Override
        public SerializableString getEscapeSequence(int ch) {
            if (!LogText.needsUnicodeEscape(ch)) {
                return null;
            }
            StringBuilder escape = new StringBuilder(6);
            LogText.appendUnicodeEscape(escape, ch);
            return new SerializedString(escape.toString());
        }

        private static int[] asciiEscapes() {
            int[] codes = CharacterEscapes.standardAsciiEscapesForJSON();
            codes[0x7f] = CharacterEscapes.ESCAPE_STANDARD;
            return codes;
        }
    };

    @Override
    public byte[] headerBytes() {
        return NONE;
    }

    @Override
    public byte[] footerBytes() {
        return NONE;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(512);
        try (JsonGenerator gen = FACTORY.createGenerator(out)) {
            gen.setCharacterEscapes(LINE_SAFE);
            gen.writeStartObject();
            gen.writeNumberField("timestamp", event.getTimeStamp());
            gen.writeStringField("level", event.getLevel().toString());
            gen.writeStringField("threadName", event.getThreadName());
            gen.writeStringField("loggerName", event.getLoggerName());
            gen.writeObjectFieldStart("mdc");
            Map<String, String> mdc = event.getMDCPropertyMap();
            if (mdc != null) {
                for (Map.Entry<String, String> e : mdc.entrySet()) {
                    gen.writeStringField(e.getKey(), e.getValue());
                }
            }
            gen.writeEndObject();
            List<KeyValuePair> pairs = event.getKeyValuePairs();
            if (pairs != null && !pairs.isEmpty()) {
                gen.writeArrayFieldStart("kvpList");
                for (KeyValuePair pair : pairs) {
                    gen.writeStartObject();
                    gen.writeStringField(String.valueOf(pair.key), String.valueOf(pair.value));
                    gen.writeEndObject();
                }
                gen.writeEndArray();
            }
            gen.writeStringField("formattedMessage", event.getFormattedMessage());
            if (event.getThrowableProxy() != null) {
                gen.writeFieldName("throwable");
                writeThrowable(gen, event.getThrowableProxy(), 0);
            }
            gen.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a ByteArrayOutputStream does not fail
        }
        out.write('\n');
        return out.toByteArray();
    }

    /** className, message, stepArray and cause, as logback writes them; causes nest at most 16 deep. */
    private static void writeThrowable(JsonGenerator gen, IThrowableProxy thrown, int depth) throws IOException {
        gen.writeStartObject();
        gen.writeStringField("className", thrown.getClassName());
        gen.writeStringField("message", thrown.getMessage());
        gen.writeArrayFieldStart("stepArray");
        for (StackTraceElementProxy step : thrown.getStackTraceElementProxyArray()) {
            StackTraceElement frame = step.getStackTraceElement();
            gen.writeStartObject();
            gen.writeStringField("className", frame.getClassName());
            gen.writeStringField("methodName", frame.getMethodName());
            gen.writeStringField("fileName", frame.getFileName());
            gen.writeNumberField("lineNumber", frame.getLineNumber());
            gen.writeEndObject();
        }
        gen.writeEndArray();
        if (thrown.getCause() != null && depth < 16) {
            gen.writeFieldName("cause");
            writeThrowable(gen, thrown.getCause(), depth + 1);
        }
        gen.writeEndObject();
    }
}
