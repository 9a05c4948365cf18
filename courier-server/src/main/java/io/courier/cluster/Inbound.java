package io.courier.cluster;

import io.courier.config.HistorySettings;
import io.courier.error.CourierException;
import io.courier.hub.Hub;
import io.courier.metrics.ClusterMeters;
import io.nats.client.Message;
import io.nats.client.impl.Headers;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What arrives from NATS, on jnats's one dispatcher thread: catalogue announcements, history topics'
 * republished copies (handed to {@link ClusterHistory}), and other nodes' messages, which are checked
 * (subject and headers agree, per-origin sequence without gaps, the topic known here) and handed to
 * the hub. One thread, in NATS order, so each publisher's order holds; the hub encodes the frame once
 * and queues it to the event loops, so this thread does no per-subscriber work.
 */
final class Inbound {
    private final String nodeId;
    private final Hub hub;
    private final ClusterMeters meters;
    private final CatalogSync catalog;
    /** The broker's interests by subject: a message for a subject no longer held is dropped. */
    private final Map<String, Interest> interests;
    /** History topics' JetStream side, once it registered. */
    private final Supplier<ClusterHistory> history;

    Inbound(
            String nodeId,
            Hub hub,
            ClusterMeters meters,
            CatalogSync catalog,
            Map<String, Interest> interests,
            Supplier<ClusterHistory> history) {
        this.nodeId = nodeId;
        this.hub = hub;
        this.meters = meters;
        this.catalog = catalog;
        this.interests = interests;
        this.history = history;
    }

    /**
     * One thread, in NATS order, so each publisher's order holds. It only checks names and hands the
     * bytes to the hub, which encodes the frame once and queues it to the event loops.
     */
    void onMessage(Message msg) {
        Headers headers = msg.getHeaders();
        if (headers != null && headers.getFirst(ClusterHistory.SEQUENCE) != null) {
            republished(msg); // every node's copy, the origin's included
            return;
        }
        if (headers != null && nodeId.equals(headers.getFirst(NatsBroker.ORIGIN))) {
            return; // noEcho makes this unreachable; the origin check keeps it so
        }
        if (NatsBroker.CATALOG.equals(msg.getSubject())) {
            HistorySettings settings = CatalogAnnouncement.history(headers);
            if (settings != null) {
                CatalogAnnouncement.decode(
                        msg.getData(), (audience, topic) -> catalog.learned(audience, topic, settings));
            }
            return;
        }
        Interest interest = interests.get(msg.getSubject());
        if (interest == null || headers == null) {
            return; // lingering subscription removed meanwhile: nobody here wants it
        }
        if (!interest.audienceHeader.equals(headers.getFirst(NatsBroker.AUDIENCE))
                || (interest.topic != null && !interest.topicHeader.equals(headers.getFirst(NatsBroker.TOPIC)))) {
            meters.lostMismatch();
            return;
        }
        countGap(interest, headers);
        if (interest.topic != null
                && (!interest.backlog.isDone() || !hub.topics().contains(interest.audience, interest.topic))) {
            // The origin checked that the topic exists; this node may not have heard of it yet.
            // Chained, so later messages of this subject wait their turn.
            interest.backlog = interest.backlog
                    .thenCompose(v -> hub.topics().resolve(interest.audience, interest.topic))
                    .handle((known, error) -> {
                        deliver(interest, msg, headers);
                        return null;
                    });
            return;
        }
        deliver(interest, msg, headers);
    }

    /** A history topic's message as JetStream republished it: the history checks and delivers it. */
    private void republished(Message msg) {
        Interest interest = interests.get(msg.getSubject());
        ClusterHistory h = history.get();
        if (interest != null && interest.topic != null && h != null) {
            meters.received();
            h.republished(interest.audience, interest.topic, interest, msg);
        }
    }

    /** Origins that send no sequence (an older node) are not checked. Dispatcher thread. */
    private void countGap(Interest interest, Headers headers) {
        String origin = headers.getFirst(NatsBroker.ORIGIN);
        String seqText = headers.getFirst(NatsBroker.SEQ);
        if (origin == null || seqText == null) {
            return;
        }
        long seq;
        try {
            seq = Long.parseLong(seqText);
        } catch (NumberFormatException e) {
            return;
        }
        Long last = interest.lastSeq.put(origin, seq);
        // A lower number: the origin restarted with the same node id and counts from 1 again.
        if (last != null && seq > last + 1) {
            meters.lostGap(seq - last - 1);
        }
    }

    private void deliver(Interest interest, Message msg, Headers headers) {
        ByteBuf message = Unpooled.wrappedBuffer(msg.getData());
        try {
            if (interest.topic == null) {
                hub.broadcast(interest.audience, message);
            } else {
                hub.publish(interest.audience, interest.topic, message);
            }
            meters.received();
        } catch (CourierException e) {
            meters.lostUnknownTopic();
            return;
        }
        String sent = headers.getFirst(NatsBroker.SENT);
        if (sent != null) {
            try {
                meters.lag(NatsBroker.nowMicros() - Long.parseLong(sent));
            } catch (NumberFormatException ignored) {
                // a foreign publisher's header: no lag to record
            }
        }
    }
}
