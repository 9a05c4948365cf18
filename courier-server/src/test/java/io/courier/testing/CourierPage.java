package io.courier.testing;

import java.util.List;

/**
 * A page in {@link Chromium} that imports courier.js from a server and records what a client tells
 * the application: {@code t.events} (every event, errors as {code, message, topic}), {@code t.messages}
 * for handlers to fill, {@code t.tokens} handed out by the token function, {@code newClient(options)}
 * with short back-off for tests, and {@code count(event)}. The page is loaded from one origin and the
 * module from another, so the import and every API call are cross-origin, as on an application's site.
 */
public final class CourierPage {
    private static final String SETUP = """
            const [moduleUrl, api] = args;
            const { Courier, CourierError } = await import(moduleUrl);
            window.Courier = Courier;
            window.CourierError = CourierError;
            window.t = { events: [], messages: [], tokens: [], tokenCalls: 0 };
            window.record = (c) => {
              for (const e of ["connected", "disconnected", "reconnecting", "subscribed", "error", "recovery", "state", "broadcast"]) {
                c.on(e, (v) => t.events.push({ e, v: v instanceof Error ? { code: v.code, message: v.message, topic: v.topic } : v }));
              }
              return c;
            };
            window.newClient = (options = {}) => record(new Courier({
              api,
              token: async () => { t.tokenCalls++; return t.tokens.length > 1 ? t.tokens.shift() : t.tokens[0]; },
              minDelayMs: 100,
              maxDelayMs: 1000,
              ...options,
            }));
            window.count = (e) => t.events.filter((x) => x.e === e).length;
            """;

    private final Chromium browser;

    private CourierPage(Chromium browser) {
        this.browser = browser;
    }

    /**
     * Opens {@code pageUrl} (any page of the other origin, e.g. its {@code /healthz}) and imports the
     * module from {@code moduleUrl}; clients made by {@code newClient} talk to {@code api}.
     */
    public static CourierPage load(Chromium browser, String pageUrl, String moduleUrl, String api) {
        browser.open(pageUrl);
        browser.run(SETUP, moduleUrl, api);
        return new CourierPage(browser);
    }

    /** Tokens the page's token function hands out, one per call, the last one for good. */
    public void giveTokens(String... tokens) {
        browser.eval("t.tokens.push(...arguments[0]);", List.of(tokens));
    }

    /** How many times the client emitted {@code event}. */
    public long count(String event) {
        return (Long) browser.eval("return count(arguments[0]);", event);
    }

    /** Every event so far as JSON, for failure messages. */
    public String events() {
        return String.valueOf(browser.eval("return JSON.stringify(t.events);"));
    }
}
