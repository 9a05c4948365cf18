package io.courier.bench.jmh;

import io.courier.hub.FanoutListener;
import io.courier.hub.Hub;
import io.courier.hub.Subscriber;
import io.courier.topic.Catalog;
import io.netty.buffer.AdaptiveByteBufAllocator;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real {@link Hub} on real event loops, with subscribers on {@link DiscardChannel}s. The loops are
 * what the server runs (a {@link MultiThreadIoEventLoopGroup}, epoll where it loads, else NIO), so a
 * fan-out pays the same hand-off, wake-up and task queue as in production.
 *
 * <p>Threads: built and closed by the JMH thread; {@link Hub#connect}, {@link Hub#subscribe} and
 * their inverses run on each channel's loop, as the hub requires, with the caller waiting.
 */
final class HubFixture implements AutoCloseable {
    static final String AUDIENCE = "bench";
    /** Bound on every wait here: a fan-out that never completes fails the run rather than hanging it. */
    private static final long TIMEOUT_SECONDS = 60;

    /** Counts what the hub reports; the JMH thread waits on {@link #fannedOut}. Any thread. */
    static final class Counter implements FanoutListener {
        private final AtomicLong fannedOut = new AtomicLong();
        private final AtomicLong delivered = new AtomicLong();

        @Override
        public void delivered(long deliveries) {
            delivered.addAndGet(deliveries);
        }

        @Override
        public void fannedOut(long nanos) {
            fannedOut.incrementAndGet();
        }

        long fannedOut() {
            return fannedOut.get();
        }

        long delivered() {
            return delivered.get();
        }
    }

    final EventLoopGroup group;
    final Hub hub;
    final Counter counter = new Counter();
    final ByteBufAllocator alloc;
    private final List<DiscardChannel> channels = new ArrayList<>();
    private final List<Subscriber> subscribers = new ArrayList<>();

    /**
     * @param allocator {@code adaptive}: {@link ByteBufAllocator#DEFAULT}, what the server hands the
     *                  hub (Netty 4.2's default type); {@code pooled}: {@link PooledByteBufAllocator#DEFAULT}
     */
    HubFixture(int loops, String allocator, String... topics) {
        this.alloc = allocator(allocator);
        this.group = new MultiThreadIoEventLoopGroup(loops, new DefaultThreadFactory("bench-loop", true), ioHandler());
        Catalog catalog = new Catalog();
        for (String topic : topics) {
            catalog.add(AUDIENCE, topic);
        }
        this.hub = new Hub(group, catalog::contains, alloc, counter);
    }

    static ByteBufAllocator allocator(String name) {
        return switch (name) {
            case "adaptive" -> {
                if (!(ByteBufAllocator.DEFAULT instanceof AdaptiveByteBufAllocator)) {
                    throw new IllegalStateException("ByteBufAllocator.DEFAULT is "
                            + ByteBufAllocator.DEFAULT.getClass().getSimpleName()
                            + " (expected: AdaptiveByteBufAllocator; is -Dio.netty.allocator.type set?)");
                }
                yield ByteBufAllocator.DEFAULT;
            }
            case "pooled" -> PooledByteBufAllocator.DEFAULT;
            default -> throw new IllegalArgumentException("allocator: " + name + " (expected: adaptive, pooled)");
        };
    }

    static String transport() {
        return Epoll.isAvailable() ? "epoll" : "nio";
    }

    private static IoHandlerFactory ioHandler() {
        return Epoll.isAvailable() ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
    }

    /**
     * Opens {@code n} connections spread round robin over the loops, each subscribed to
     * {@code topics}, and returns their subscribers in opening order. The pipeline holds one handler,
     * as the server's does, so the hub writes from a context next to the head.
     */
    List<Subscriber> connect(int n, String... topics) throws Exception {
        Map<EventLoop, List<Integer>> byLoop = new LinkedHashMap<>();
        List<DiscardChannel> opened = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            DiscardChannel channel = new DiscardChannel();
            group.next().register(channel).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            opened.add(channel);
            byLoop.computeIfAbsent(channel.eventLoop(), l -> new ArrayList<>()).add(i);
        }
        Subscriber[] joined = new Subscriber[n];
        List<Future<?>> done = new ArrayList<>();
        for (Map.Entry<EventLoop, List<Integer>> e : byLoop.entrySet()) {
            done.add(e.getKey().submit(() -> {
                for (int i : e.getValue()) {
                    DiscardChannel channel = opened.get(i);
                    channel.pipeline().addLast(new ChannelDuplexHandler());
                    Subscriber s = hub.connect(channel, AUDIENCE);
                    for (String topic : topics) {
                        hub.subscribe(s, topic);
                    }
                    joined[i] = s;
                }
            }));
        }
        for (Future<?> f : done) {
            f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        channels.addAll(opened);
        List<Subscriber> result = List.of(joined);
        subscribers.addAll(result);
        return result;
    }

    /** The loop a subscriber's channel lives on. */
    EventLoop loopOf(int subscriberIndex) {
        return channels.get(subscriberIndex).eventLoop();
    }

    /**
     * Waits until the hub has reported {@code target} fan-outs (one per publish per loop). Spins
     * first, since a fan-out takes microseconds; yields after that so a waiting thread does not
     * keep a core from the loops on this 2-core machine.
     */
    void awaitFannedOut(long target) {
        int spins = 0;
        long deadline = 0;
        while (counter.fannedOut() < target) {
            if (++spins < 2_000) {
                Thread.onSpinWait();
                continue;
            }
            Thread.yield();
            if (deadline == 0) {
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
            } else if ((spins & 1023) == 0 && System.nanoTime() > deadline) {
                throw new IllegalStateException("fan-out " + target + " not reported within " + TIMEOUT_SECONDS
                        + " s (reported: " + counter.fannedOut() + ")");
            }
        }
    }

    @Override
    public void close() {
        try {
            closeAll();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while closing the fixture", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("closing the fixture failed", e);
        }
    }

    private void closeAll() throws InterruptedException, ExecutionException, TimeoutException {
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < channels.size(); i++) {
            DiscardChannel channel = channels.get(i);
            Subscriber s = subscribers.get(i);
            done.add(channel.eventLoop().submit(() -> {
                hub.disconnect(s);
                channel.close();
            }));
        }
        for (Future<?> f : done) {
            f.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    }
}
