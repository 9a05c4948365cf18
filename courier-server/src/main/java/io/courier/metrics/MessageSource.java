package io.courier.metrics;

/** Where a published message came from; the {@code source} label of {@code courier_messages_published_total}. */
public enum MessageSource {
    SOCKET,
    HOOK;

    String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
