package io.courier.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import java.io.IOException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.event.KeyValuePair;

/**
 * Client text cannot forge log lines (issue 10, item 5): events rendered by the encoders of the real
 * {@code logback.xml} (main resources), in both formats, are exactly one line, carry exactly the fields
 * the code added, and give back every client value as it was.
 */
class LogLinesTest {
    /** A frame's action with a whole fake event after a newline. */
    private static final String FORGED_ACTION =
            "x\nts=2030-01-01T00:00:00.000Z level=ERROR logger=Courier thread=main msg=\"forged\"";
    /** An audience that closes the quoted value and adds a field. */
    private static final String FORGED_AUDIENCE = "X\" level=ERROR forged=\"1";
    /** Everything else a client may slip in: CR, tab, backslashes, escape sequences, C1, DEL, NUL, line separators, a lone surrogate. */
    private static final String NASTY = "a\r\nb\tc\\\"d\\ne\u001b[31mf\u0085g\u007fh\u0000i\u2028j\u2029k\ud800l=\"m\"";

    @Test
    void logfmtEventIsOneLineWithOnlyItsOwnFields() {
        String line = render("logfmt", event());
        assertOneLine(line);
        Map<String, String> fields = Logfmt.parse(line.substring(0, line.length() - 1));
        assertEquals(
                List.of("ts", "level", "logger", "thread", "msg", "audience", "remote", "topic", "reason", "subject"),
                new ArrayList<>(fields.keySet()),
                line);
        assertEquals("WARN", fields.get("level"));
        assertEquals("refused a frame: unknown action '" + FORGED_ACTION + "'", fields.get("msg"));
        assertEquals(FORGED_AUDIENCE, fields.get("audience"));
        assertEquals(NASTY, fields.get("remote"));
        assertEquals(NASTY, fields.get("topic"));
        assertEquals("\\", fields.get("reason"));
        assertEquals("", fields.get("subject"));
    }

    @Test
    void logfmtExceptionWithClientTextStaysOnTheEventsLine() {
        LoggingEvent event = event();
        event.setThrowableProxy(
                new ch.qos.logback.classic.spi.ThrowableProxy(new IllegalStateException("bad topic " + FORGED_ACTION)));
        String line = render("logfmt", event);
        assertOneLine(line);
        Map<String, String> fields = Logfmt.parse(line.substring(0, line.length() - 1));
        assertFalse(fields.containsKey("forged"), line);
        String exception = fields.get("exception");
        assertNotNull(exception, line);
        assertTrue(
                exception.startsWith("java.lang.IllegalStateException: bad topic " + FORGED_ACTION + "\n\tat "),
                exception);
    }

    @Test
    void jsonEventIsOneLineWithOnlyItsOwnFields() throws IOException {
        LoggingEvent event = event();
        event.setThrowableProxy(
                new ch.qos.logback.classic.spi.ThrowableProxy(new IllegalStateException("bad topic " + FORGED_ACTION)));
        String line = render("json", event);
        assertOneLine(line);
        Map<String, Object> json = Json.parse(line);
        assertFalse(json.containsKey("forged"), line);
        assertEquals("WARN", json.get("level"));
        assertEquals("refused a frame: unknown action '" + FORGED_ACTION + "'", json.get("formattedMessage"));
        @SuppressWarnings("unchecked")
        Map<String, Object> kvps = (Map<String, Object>) json.get("kvpList");
        assertEquals(
                Map.of("audience", FORGED_AUDIENCE, "remote", NASTY, "topic", NASTY, "reason", "\\", "subject", ""),
                kvps);
        @SuppressWarnings("unchecked")
        Map<String, Object> throwable = (Map<String, Object>) json.get("throwable");
        assertEquals("bad topic " + FORGED_ACTION, throwable.get("message"), line);
    }

    private static LoggingEvent event() {
        LoggerContext context = new LoggerContext();
        context.setMDCAdapter(new ch.qos.logback.classic.util.LogbackMDCAdapter());
        Logger logger = context.getLogger("io.courier.ws.SessionHandler");
        LoggingEvent event = new LoggingEvent(
                Logger.class.getName(), logger, Level.WARN, "refused a frame: unknown action '{}'", null, new Object[] {
                    FORGED_ACTION
                });
        event.setThreadName("courier-io-3-1");
        event.addKeyValuePair(new KeyValuePair("audience", FORGED_AUDIENCE));
        event.addKeyValuePair(new KeyValuePair("remote", NASTY));
        event.addKeyValuePair(new KeyValuePair("topic", NASTY));
        event.addKeyValuePair(new KeyValuePair("reason", "\\"));
        event.addKeyValuePair(new KeyValuePair("subject", ""));
        return event;
    }

    /** The bytes the appender named {@code format} in the production logback.xml writes for {@code event}. */
    private static String render(String format, ILoggingEvent event) {
        LoggerContext context = new LoggerContext();
        context.putProperty("COURIER_LOG_FORMAT", format);
        try {
            JoranConfigurator configurator = new JoranConfigurator();
            configurator.setContext(context);
            URL config = LogLinesTest.class.getClassLoader().getResource("logback.xml");
            assertNotNull(config, "logback.xml on the classpath");
            configurator.doConfigure(config);
            @SuppressWarnings("unchecked")
            OutputStreamAppender<ILoggingEvent> appender = (OutputStreamAppender<ILoggingEvent>)
                    context.getLogger(Logger.ROOT_LOGGER_NAME).getAppender(format);
            assertNotNull(appender, "root logs to the " + format + " appender");
            Encoder<ILoggingEvent> encoder = appender.getEncoder();
            return new String(encoder.encode(event), StandardCharsets.UTF_8);
        } catch (ch.qos.logback.core.joran.spi.JoranException e) {
            throw new AssertionError(e);
        } finally {
            context.stop();
        }
    }

    private static void assertOneLine(String line) {
        assertTrue(line.endsWith("\n"), line);
        String body = line.substring(0, line.length() - 1);
        for (char forbidden : new char[] {'\n', '\r', '\u2028', '\u2029', '\u0085', '\u000b', '\u000c'}) {
            assertEquals(-1, body.indexOf(forbidden), "U+" + Integer.toHexString(forbidden) + " in " + line);
        }
    }

    /** A strict logfmt reader: {@code key=bare} or {@code key="quoted"} with backslash escapes, one space apart. */
    static final class Logfmt {
        static Map<String, String> parse(String line) {
            Map<String, String> fields = new LinkedHashMap<>();
            int i = 0;
            while (i < line.length()) {
                int eq = line.indexOf('=', i);
                if (eq < 0) {
                    throw new AssertionError("no '=' after index " + i + " in " + line);
                }
                String key = line.substring(i, eq);
                assertTrue(key.matches("[A-Za-z0-9_.-]+"), "key '" + key + "' in " + line);
                StringBuilder value = new StringBuilder();
                i = eq + 1;
                if (i < line.length() && line.charAt(i) == '"') {
                    i++;
                    while (line.charAt(i) != '"') {
                        char ch = line.charAt(i++);
                        if (ch != '\\') {
                            value.append(ch);
                            continue;
                        }
                        char esc = line.charAt(i++);
                        switch (esc) {
                            case 'n' -> value.append('\n');
                            case 'r' -> value.append('\r');
                            case 't' -> value.append('\t');
                            case 'u' -> {
                                value.append((char) Integer.parseInt(line.substring(i, i + 4), 16));
                                i += 4;
                            }
                            default -> value.append(esc);
                        }
                    }
                    i++;
                } else {
                    while (i < line.length() && line.charAt(i) != ' ') {
                        value.append(line.charAt(i++));
                    }
                }
                if (fields.put(key, value.toString()) != null) {
                    throw new AssertionError("key '" + key + "' twice in " + line);
                }
                if (i < line.length()) {
                    assertEquals(' ', line.charAt(i), "one space between fields at index " + i + " in " + line);
                    i++;
                }
            }
            return fields;
        }
    }

    /** The event as nested maps; the JsonEncoder's kvpList (an array of one-key objects) becomes one map. */
    static final class Json {
        private static final JsonFactory FACTORY = new JsonFactory();

        static Map<String, Object> parse(String line) throws IOException {
            try (JsonParser p = FACTORY.createParser(line)) {
                assertEquals(JsonToken.START_OBJECT, p.nextToken());
                Map<String, Object> object = object(p);
                assertEquals(null, p.nextToken(), "one object per line");
                return object;
            }
        }

        private static Map<String, Object> object(JsonParser p) throws IOException {
            Map<String, Object> out = new HashMap<>();
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                Object value = value(p, p.nextToken());
                if (out.put(name, value) != null) {
                    throw new AssertionError("key '" + name + "' twice");
                }
            }
            return out;
        }

        private static Object value(JsonParser p, JsonToken token) throws IOException {
            if (token == JsonToken.START_OBJECT) {
                return object(p);
            }
            if (token == JsonToken.START_ARRAY) {
                Map<String, Object> merged = new HashMap<>();
                List<Object> items = new ArrayList<>();
                for (JsonToken t = p.nextToken(); t != JsonToken.END_ARRAY; t = p.nextToken()) {
                    Object item = value(p, t);
                    items.add(item);
                    if (item instanceof Map<?, ?> m) {
                        m.forEach((k, v) -> merged.put((String) k, v));
                    }
                }
                return merged.isEmpty() ? items : merged;
            }
            return token == JsonToken.VALUE_NULL ? null : p.getText();
        }
    }
}
