package io.courier.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.courier.testing.Chromium;
import io.courier.testing.TestServer;
import io.courier.testing.WsClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.WebElement;

/**
 * The console at {@code /console} in headless Chromium, used as a person would: paste a token,
 * connect, create a topic, subscribe, watch the hook's message arrive in the log, publish and
 * broadcast from the form to another socket. Leaves a screenshot at {@code target/console.png}.
 */
class ConsoleIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    public static final Path SCREENSHOT = Path.of("target", "console.png");

    private static void type(Chromium browser, String selector, String text) {
        WebElement field = browser.find(selector);
        field.clear();
        field.sendKeys(text);
    }

    /** True once the log has a row whose cells (event, topic, message) are these. */
    private static String logRow(String kind, String topic, String message) {
        return "[...document.querySelectorAll('#log tr')].some(r => r.cells[1].textContent === " + quote(kind)
                + " && r.cells[2].textContent === " + quote(topic) + " && r.cells[3].textContent.startsWith("
                + quote(message) + "))";
    }

    private static String quote(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    @Test
    void pasteATokenCreateATopicSubscribeWatchAndPublish() throws Exception {
        try (TestServer server = TestServer.startReachable(Map.of());
                Chromium browser = Chromium.start()) {
            String audience = TestServer.uniqueAudience();
            String token = server.setUp(audience);

            browser.open(server.uri("/console").toString());
            browser.until("document.body.dataset.ready === 'true'", WAIT, "the console's script loaded");
            type(browser, "#token", token);
            browser.find("#connect").click();
            browser.until("document.getElementById('state').textContent === 'connected'", WAIT, "connected");
            assertEquals(audience, browser.text("#audience"));
            browser.until(
                    "document.getElementById('topics-result').textContent === '0 topics'",
                    WAIT,
                    "the empty topic list");

            // Create a topic from the form: it appears in the list.
            type(browser, "#new-topic", "system/events");
            browser.find("#create-topic").click();
            browser.until(
                    "document.querySelector(\"#topics button[data-topic='system/events']\")",
                    WAIT,
                    "the new topic listed");
            assertEquals("created system/events", browser.text("#topics-result"));
            assertEquals(
                    201, server.post("/v1/topic", token, "{\"topic\":\"chat\"}").statusCode());
            browser.find("#refresh-topics").click();
            browser.until("document.querySelectorAll('#topics li').length === 2", WAIT, "both topics listed");

            // Subscribe to both from the list, then a backend's hook publish shows up in the live log.
            browser.find("#topics button[data-topic='system/events']").click();
            browser.find("#topics button[data-topic='chat']").click();
            browser.until(logRow("state", "system/events", "subscribed"), WAIT, "subscribed to system/events");
            browser.until(logRow("state", "chat", "subscribed"), WAIT, "subscribed to chat");
            assertEquals(2L, browser.eval("return document.querySelectorAll('#subscriptions li').length;"));
            server.post(
                    "/v1/hook",
                    token,
                    "{\"action\":\"publish\",\"topic\":\"system/events\",\"message\":{\"deploy\":\"done\",\"build\":42}}");
            browser.until(
                    logRow("publish", "system/events", "{\"deploy\":\"done\",\"build\":42}"),
                    WAIT,
                    "the hook's message");
            assertTrue(
                    ((String) browser.eval("return document.querySelector('#log tr:last-child td').textContent;"))
                            .matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3}"),
                    "each row has its time");

            // Publish and broadcast from the form: another socket receives both.
            try (WsClient other = server.connect(token)) {
                other.send("{\"action\":\"subscribe\",\"topic\":\"chat\",\"id\":1}");
                assertEquals("{\"action\":\"ack\",\"id\":1}", other.next());
                type(browser, "#publish-topic", "chat");
                type(browser, "#publish-message", "{\"text\":\"hello from the console\"}");
                browser.find("#publish").click();
                assertEquals(
                        "{\"action\":\"publish\",\"topic\":\"chat\",\"message\":{\"text\":\"hello from the console\"}}",
                        other.next());
                browser.until(
                        "document.getElementById('publish-result').textContent.startsWith('publish acknowledged')",
                        WAIT,
                        "the ack shown");
                browser.until(logRow("publish", "chat", "{\"text\":\"hello from the console\"}"), WAIT, "its own copy");

                type(browser, "#publish-message", "{\"to\":\"everyone\"}");
                browser.find("#broadcast").click();
                assertEquals("{\"action\":\"broadcast\",\"message\":{\"to\":\"everyone\"}}", other.next());
                browser.until(logRow("broadcast", "", "{\"to\":\"everyone\"}"), WAIT, "the broadcast in the log");
            }

            // The server's error code is shown, not swallowed.
            type(browser, "#publish-topic", "missing");
            type(browser, "#publish-message", "{}");
            browser.find("#publish").click();
            browser.until(
                    "document.getElementById('publish-result').textContent.startsWith('ETOPIC_NOTFOUND')",
                    WAIT,
                    "the error code shown");
            type(browser, "#publish-topic", "chat");
            type(browser, "#publish-message", "{\"text\":\"hello from the console\"}");

            browser.screenshot(SCREENSHOT);
            assertTrue(Files.size(SCREENSHOT) > 10_000, "a real screenshot: " + Files.size(SCREENSHOT) + " bytes");
        }
    }
}
