package io.courier.cluster;

import io.netty.buffer.ByteBuf;
import java.util.concurrent.CompletionStage;

/**
 * Fan-out between the nodes of a cluster. The single node has none: its sockets and hook publish
 * straight into the {@link io.courier.hub.Hub}, and nothing here is built or called.
 *
 * <p>What every implementation guarantees (as Centrifuge's {@code Broker} states its own):
 * <ul>
 *   <li>{@link #publish} and {@link #broadcast} reach every subscriber on every node, this one
 *       included, at most once: delivery between nodes is at most once (a message in flight when
 *       the bus fails is lost, and counted where it can be detected), never duplicated;
 *   <li>messages from one publisher (one caller thread, e.g. one socket's event loop) to one topic
 *       arrive on every node in the order published;
 *   <li>nothing crosses audiences: a message reaches only subscribers of its own audience, however
 *       the names are spelled;
 *   <li>the message crosses byte for byte: subscribers on other nodes get the same frame as local ones;
 *   <li>a publish either goes to the bus and then to the local hub, or is refused with
 *       {@code ECLUSTER_UNAVAILABLE} before any local delivery, so a client's retry never
 *       duplicates locally;
 *   <li>once the stage {@link #join} returned completes, a publish from any node reaches this
 *       node's subscribers of that topic.
 * </ul>
 */
public interface Broker extends AutoCloseable {
    /**
     * Publishes {@code message} (a JSON object's bytes, read but not consumed) to {@code topic}
     * everywhere. Any thread; never blocks.
     *
     * @throws io.courier.error.CourierException ETOPIC_NOTFOUND for an unknown topic,
     *     ECLUSTER_UNAVAILABLE when the bus cannot take it (nothing was delivered)
     */
    void publish(String audience, String topic, ByteBuf message);

    /** Like {@link #publish}, to every connection of {@code audience} on every node. */
    void broadcast(String audience, ByteBuf message);

    /**
     * A local connection subscribed to {@code topic}: this node needs its messages from the bus.
     * Pair every call with one {@link #leave}. Any thread; never blocks.
     *
     * @return completes (on a broker thread) once messages published anywhere reach this node
     */
    CompletionStage<Void> join(String audience, String topic);

    /** A local subscription to {@code topic} ended. Any thread; never blocks. */
    void leave(String audience, String topic);

    /** A local connection of {@code audience} opened: this node needs its broadcasts. */
    void connected(String audience);

    /** A local connection of {@code audience} closed. */
    void disconnected(String audience);

    /** True while the bus is connected and every subscription this node needs is in place. */
    boolean isUp();

    @Override
    void close();
}
