package io.courier.protocol;

/** What a client frame or hook call asks for; the JSON {@code action} value is the lower-case name. */
public enum Action {
    SUBSCRIBE(true, false),
    UNSUBSCRIBE(true, false),
    PUBLISH(true, true),
    BROADCAST(false, true);

    private final boolean needsTopic;
    private final boolean needsMessage;

    Action(boolean needsTopic, boolean needsMessage) {
        this.needsTopic = needsTopic;
        this.needsMessage = needsMessage;
    }

    public boolean needsTopic() {
        return needsTopic;
    }

    public boolean needsMessage() {
        return needsMessage;
    }

    static Action of(String name) {
        return switch (name) {
            case "subscribe" -> SUBSCRIBE;
            case "unsubscribe" -> UNSUBSCRIBE;
            case "publish" -> PUBLISH;
            case "broadcast" -> BROADCAST;
            default -> null;
        };
    }
}
