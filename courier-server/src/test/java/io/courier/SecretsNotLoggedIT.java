package io.courier;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import io.courier.testing.TestServer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * No configured password or secret reaches a log line while the server starts and stops: the
 * database password in the URL and in its own key, the JWT secret and its previous one, the connection
 * key secrets, the NATS URL's password, the NATS token and the metrics token. Every event
 * of every logger is captured at DEBUG, with its key-value pairs and its exceptions' messages. The
 * database is a PostgreSQL URL nothing listens on, so the failure paths (the store's warnings, the
 * retried topic load) log too.
 */
class SecretsNotLoggedIT {
    private static final String URL_PASSWORD = "url-password-5f0c1e";
    private static final String KEY_PASSWORD = "key-password-8d2a7b";
    private static final String JWT_SECRET = "jwt-secret-3b9e4c-0123456789abcdef0123456789abcdef";
    private static final String METRICS_TOKEN = "metrics-token-71a6d2";
    private static final String JWT_PREVIOUS = "jwt-previous-4e1f0a-0123456789abcdef0123456789abcdef";
    private static final String KEY_SECRET = "key-secret-9c3d5e-0123456789abcdef0123456789abcdef";
    private static final String KEY_PREVIOUS = "key-previous-2a8b6f-0123456789abcdef0123456789abcdef";
    private static final String NATS_URL_PASSWORD = "nats-url-password-6e0d3c";
    private static final String NATS_TOKEN = "nats-token-1f7b9a";

    @Test
    void startupAndShutdownLogNoSecret() {
        List<String> lines = captureLogs(() -> {
            try (TestServer server = TestServer.start(Map.ofEntries(
                    Map.entry(
                            "courier.database.url",
                            "jdbc:postgresql://127.0.0.1:1/courier?user=courier&password=" + URL_PASSWORD
                                    + "&connectTimeout=1"),
                    Map.entry("courier.database.password", KEY_PASSWORD),
                    Map.entry("courier.jwt.secret", JWT_SECRET),
                    Map.entry("courier.metrics.enabled", "true"),
                    Map.entry("courier.metrics.token", METRICS_TOKEN),
                    Map.entry("courier.jwt.secret.previous", JWT_PREVIOUS),
                    Map.entry("courier.key.secret", KEY_SECRET),
                    Map.entry("courier.key.secret.previous", KEY_PREVIOUS),
                    Map.entry("courier.cluster.nats.url", "nats://nats-user:" + NATS_URL_PASSWORD + "@127.0.0.1:1"),
                    Map.entry("courier.cluster.nats.token", NATS_TOKEN)))) {
                server.port();
            }
        });
        assertTrue(
                lines.stream().anyMatch(l -> l.contains("configuration: ")),
                "the configuration line was not captured: " + lines);
        assertTrue(
                lines.stream().anyMatch(l -> l.contains("password=****")),
                "the redacted URL is not in the configuration line");
        assertTrue(
                lines.stream().anyMatch(l -> l.contains("nats://****@127.0.0.1:1")),
                "the redacted NATS URL is not in the configuration line");
        for (String secret : List.of(
                URL_PASSWORD,
                KEY_PASSWORD,
                JWT_SECRET,
                METRICS_TOKEN,
                JWT_PREVIOUS,
                KEY_SECRET,
                KEY_PREVIOUS,
                NATS_URL_PASSWORD,
                NATS_TOKEN)) {
            for (String line : lines) {
                assertFalse(line.contains(secret), "a log line reveals " + secret + ": " + line);
            }
        }
    }

    /** Runs {@code body} with every logger at DEBUG and returns each event rendered with all it carries. */
    private static List<String> captureLogs(Runnable body) {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        Level before = root.getLevel();
        Logger hikari = (Logger) LoggerFactory.getLogger("com.zaxxer.hikari");
        Level hikariBefore = hikari.getLevel();
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.setContext(root.getLoggerContext());
        appender.start();
        root.addAppender(appender);
        root.setLevel(Level.DEBUG);
        hikari.setLevel(Level.DEBUG);
        try {
            body.run();
        } finally {
            root.detachAppender(appender);
            root.setLevel(before);
            hikari.setLevel(hikariBefore);
            appender.stop();
        }
        List<String> lines = new ArrayList<>();
        for (ILoggingEvent event : List.copyOf(appender.list)) {
            StringBuilder line =
                    new StringBuilder(event.getLoggerName()).append(' ').append(event.getFormattedMessage());
            if (event.getKeyValuePairs() != null) {
                for (KeyValuePair kv : event.getKeyValuePairs()) {
                    line.append(' ').append(kv.key).append('=').append(kv.value);
                }
            }
            for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                line.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
            }
            lines.add(line.toString());
        }
        return lines;
    }
}
