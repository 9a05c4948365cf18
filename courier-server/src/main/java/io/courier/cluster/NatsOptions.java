package io.courier.cluster;

import io.courier.logging.RateLimitedLog;
import io.courier.metrics.ClusterMeters;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.ErrorListener;
import io.nats.client.Message;
import io.nats.client.Options;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The jnats options of a node's one NATS connection, and what its error listener counts and logs. */
final class NatsOptions {
    private static final Logger log = LoggerFactory.getLogger(NatsBroker.class);
    private static final RateLimitedLog rare = new RateLimitedLog(log, 10, TimeUnit.SECONDS);

    private NatsOptions() {}

    /**
     * @param maxOutgoingMessages past this many queued messages jnats discards publishes (counted)
     *     rather than blocking the event loop that publishes, which is what it does by default
     * @param events connection events, handed on at once (jnats's threads must not wait)
     */
    static Options of(
            ClusterSettings settings,
            int maxOutgoingMessages,
            java.util.function.Consumer<ConnectionListener.Events> events,
            ClusterMeters meters) {
        Options.Builder b = Options.builder()
                .servers(settings.urls().toArray(new String[0]))
                .connectionName("courier " + settings.nodeId())
                .noEcho()
                .pingInterval(settings.pingInterval())
                .reconnectBufferSize(settings.reconnectBufferBytes())
                .maxReconnects(-1)
                .reconnectWait(Duration.ofMillis(250))
                .connectionTimeout(Duration.ofSeconds(2))
                .maxMessagesInOutgoingQueue(maxOutgoingMessages)
                .discardMessagesWhenOutgoingQueueFull()
                .connectionListener((conn, event) -> events.accept(event))
                .errorListener(new ErrorListener() {
                    @Override
                    public void messageDiscarded(Connection conn, Message msg) {
                        meters.lostDiscarded();
                    }

                    @Override
                    public void slowConsumerDetected(Connection conn, io.nats.client.Consumer consumer) {
                        warn("NATS reports this node as a slow consumer: messages from other nodes are dropped");
                    }

                    @Override
                    public void errorOccurred(Connection conn, String error) {
                        warn("NATS error: {}", error);
                    }

                    @Override
                    public void exceptionOccurred(Connection conn, Exception exp) {
                        if (log.isDebugEnabled()) {
                            log.debug("NATS connection exception", exp);
                        }
                    }
                });
        if (!settings.user().isEmpty()) {
            b.userInfo(settings.user(), settings.password());
        }
        if (!settings.token().isEmpty()) {
            b.token(settings.token().toCharArray());
        }
        if (!settings.credentialsFile().isEmpty()) {
            b.credentialPath(settings.credentialsFile());
        }
        return b.build();
    }

    private static void warn(String format, Object... args) {
        var warning = rare.warning();
        if (warning != null) {
            warning.log(format, args);
        }
    }
}
