package io.courier.metrics;

import java.util.Locale;

/** Where a published message came from; the {@code source} label of {@code courier_messages_published_total}. */
public enum MessageSource {
    SOCKET,
    HOOK;

    String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
