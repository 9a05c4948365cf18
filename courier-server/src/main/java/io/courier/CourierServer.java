package io.courier;

import io.courier.auth.ConnectionKeys;
import io.courier.auth.JwtKeys;
import io.courier.auth.TokenVerifier;
import io.courier.cluster.CatalogSync;
import io.courier.cluster.ClusterHistory;
import io.courier.cluster.ClusterSettings;
import io.courier.cluster.NatsBroker;
import io.courier.config.Config;
import io.courier.config.ConfigException;
import io.courier.config.HistorySettings;
import io.courier.history.Histories;
import io.courier.history.HistoryEngine;
import io.courier.http.ApiHandler;
import io.courier.http.AudienceRoutes;
import io.courier.http.BodyBudget;
import io.courier.http.HealthRoutes;
import io.courier.http.HistoryRoute;
import io.courier.http.HookRoute;
import io.courier.http.MetricsRoute;
import io.courier.http.Router;
import io.courier.http.SignRoute;
import io.courier.http.StaticRoutes;
import io.courier.http.TopicRoutes;
import io.courier.hub.FanoutListener;
import io.courier.hub.Hub;
import io.courier.limit.AudienceRateLimit;
import io.courier.limit.ConnectionLimitHandler;
import io.courier.metrics.CourierMetrics;
import io.courier.pipeline.Stage;
import io.courier.store.AsyncStore;
import io.courier.store.JdbcStore;
import io.courier.topic.Topics;
import io.courier.ws.ShutdownEvent;
import io.courier.ws.WebSocketUpgradeHandler;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running Courier: builds every part from the {@link Config} with plain constructors, binds the
 * one port, and shuts down gracefully. {@link Courier#main} runs one; tests start one on port 0.
 */
public final class CourierServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(CourierServer.class);

    private final Config config;
    private final Transport transport;
    private final EventLoopGroup boss;
    private final EventLoopGroup workers;
    private final AsyncStore store;
    private final Hub hub;
    /** Null on a single node. */
    private final NatsBroker cluster;
    /** Null in a cluster. */
    private final Histories histories;
    /** Where history topics keep their messages: {@link #histories}, or JetStream in a cluster. */
    private final HistoryEngine history;

    private final JwtKeys jwtKeys;
    private final CourierMetrics metrics;
    private final MetricsRoute metricsRoute;
    private final ChannelGroup openChannels = new DefaultChannelGroup("courier", GlobalEventExecutor.INSTANCE);
    private final ScheduledExecutorService background;
    private final Channel serverChannel;
    private volatile boolean closed;
    /** Set first thing on close: {@code /readyz} answers 503 from then on. */
    private volatile boolean draining;

    private CourierServer(Config config, ClusterSettings clusterSettings) throws InterruptedException {
        this.config = config;
        // Secrets print as ****: the records' toString methods mask them.
        log.info("configuration: {}", config);
        this.transport = Transport.detect();
        this.jwtKeys = JwtKeys.load(config.jwt(), config.dataDir());
        ConnectionKeys connectionKeys = ConnectionKeys.load(config.keys(), config.dataDir(), config.signTtl());
        TokenVerifier verifier = new TokenVerifier(jwtKeys, config.jwt());
        this.metrics = new CourierMetrics();
        JdbcStore jdbc = JdbcStore.open(config.database(), metrics.meterRegistry());
        this.store = new AsyncStore(jdbc, config.workers(), config.workerQueue());

        this.boss = transport.newGroup(1, "courier-accept");
        this.workers = transport.newGroup(config.ioThreads(), "courier-io");
        // A single node's catalogue is complete; in a cluster a miss may be another node's new topic.
        Topics topics = new Topics(store, clusterSettings != null, System::nanoTime);
        // Netty's default (adaptive in 4.2) for channels and fan-out frames alike. Measured on the
        // load generator, the pooled allocator with recycler settings tuned for fan-out allocated
        // less per delivery in JMH but halved deliveries per second over real sockets (RESULTS.md).
        ByteBufAllocator allocator = ByteBufAllocator.DEFAULT;
        // A loop's fan-out queue holds bursts of up to 16 times the slow-consumer bound while its
        // subscribers catch up; past that, publishing sockets stop being read (Hub.throttle).
        this.hub = new Hub(
                workers,
                topics,
                allocator,
                fanoutListener(metrics),
                16L * config.slowConsumerBytes(),
                config.outboundMaxBytes());
        metrics.watchHub(hub::connections, hub::subscriptions, hub::activeAudiences);
        metrics.watchFanoutQueues(hub::queuedBytes);
        metrics.watchOutbound(hub::outboundQueuedBytes);
        metrics.watchTopics(topics::audienceCount, topics::topicCount);
        this.background = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "courier-background");
            t.setDaemon(true);
            return t;
        });
        loadTopics(topics);
        // No NATS configured: no broker at all, and the sockets and the hook use the hub as they always have.
        this.cluster =
                clusterSettings == null ? null : NatsBroker.start(clusterSettings, hub, metrics, catalogSync(topics));
        // A single node keeps histories in memory; a cluster in JetStream.
        this.histories = cluster == null ? new Histories(hub, allocator, config.history(), System::nanoTime) : null;
        if (histories != null) {
            background.scheduleWithFixedDelay(histories::sweep, 1, 1, TimeUnit.SECONDS);
            metrics.watchHistory(histories::heldBytes);
        }
        this.history = histories != null ? histories : new ClusterHistory(cluster, hub, allocator, config.history());
        if (cluster != null) {
            topics.announceWith(cluster::announce);
            metrics.watchTopicLookups(topics::storeLookups);
        }

        Router router = new Router();
        new HealthRoutes(store, () -> draining, cluster).register(router);
        new AudienceRoutes(store).register(router);
        new TopicRoutes(topics, config.history()).register(router);
        new SignRoute(store, connectionKeys, config.wsUrl()).register(router);
        // courier.js and the console, read into memory here, before the event loops start.
        StaticRoutes.load(config.consoleEnabled()).register(router);
        AudienceRateLimit hookLimit = new AudienceRateLimit(config.limits().hookRatePerSecond(), System::nanoTime);
        // Off the event loops: a pass over every audience that called the hook in the last second.
        background.scheduleWithFixedDelay(hookLimit::sweep, 10, 10, TimeUnit.SECONDS);
        new HookRoute(hub, cluster, history, metrics, hookLimit).register(router);
        new HistoryRoute(topics, history).register(router);
        this.metricsRoute =
                new MetricsRoute(metrics.registry(), config.metrics().token());
        if (config.metrics().enabled()) {
            metricsRoute.register(router);
        }
        WebSocketUpgradeHandler upgrade =
                new WebSocketUpgradeHandler(connectionKeys, hub, cluster, history, config, metrics);
        ApiHandler api = new ApiHandler(router, verifier, metrics, config.envelopeData());
        BodyBudget bodyBudget = new BodyBudget(config.maxBufferedBytes());
        metrics.watchBufferedBodies(bodyBudget::heldBytes);

        ConnectionLimitHandler connectionLimits =
                new ConnectionLimitHandler(config.limits(), config.proxyProtocol(), metrics);
        ServerBootstrap bootstrap = new ServerBootstrap()
                .group(boss, workers)
                .channel(transport.serverChannel())
                .handler(connectionLimits)
                .option(ChannelOption.SO_BACKLOG, 4096)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.ALLOCATOR, allocator)
                .childOption(
                        ChannelOption.WRITE_BUFFER_WATER_MARK,
                        new WriteBufferWaterMark(config.slowConsumerBytes() / 2, config.slowConsumerBytes()))
                .childHandler(new ServerInitializer(
                        config, upgrade, api, openChannels, router, verifier, bodyBudget, metrics, connectionLimits));
        if (config.sendBufferBytes() > 0) {
            bootstrap.childOption(ChannelOption.SO_SNDBUF, config.sendBufferBytes());
        }
        this.serverChannel = bootstrap.bind(config.host(), config.port()).sync().channel();
        log.info(
                "courier listening on http://{}:{} (transport={}, direct={}, store={}, jwt={})",
                config.host(),
                port(),
                transport.name(),
                DirectMemory.describe(),
                jdbc.describe(),
                jwtKeys.describe());
        if (!DirectMemory.failsFast()) {
            log.warn(
                    "direct memory is accounted by the JDK: an allocation over the limit blocks its event loop for up to"
                            + " a second before failing; run the jar with java -jar, or add --add-opens java.base/java.nio=ALL-UNNAMED");
        }
    }

    /** Builds and binds a server; throws {@link ConfigException} for key problems. */
    public static CourierServer start(Config config) {
        return start(config, ClusterSettings.from(config.cluster()));
    }

    /**
     * A node of a cluster when {@code cluster} is not null, whatever {@code config.cluster()} says:
     * tests start nodes against their own nats-server this way.
     */
    public static CourierServer start(Config config, ClusterSettings cluster) {
        try {
            return new CourierServer(config, cluster);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while binding", e);
        }
    }

    public int port() {
        return ((InetSocketAddress) serverChannel.localAddress()).getPort();
    }

    /** Where history topics keep their messages: memory on a single node, JetStream in a cluster. */
    public HistoryEngine history() {
        return history;
    }

    /** The single node's topic histories, or null in a cluster. */
    public Histories histories() {
        return histories;
    }

    public Hub hub() {
        return hub;
    }

    /** The fan-out between nodes, or null on a single node. */
    public NatsBroker cluster() {
        return cluster;
    }

    public CourierMetrics metrics() {
        return metrics;
    }

    public Config config() {
        return config;
    }

    /** Retries in the background until the database answers, so startup never waits for it. */
    private void loadTopics(Topics topics) {
        topics.load().whenComplete((loaded, error) -> {
            if (error == null) {
                log.info("loaded {} topics of {} audiences", topics.topicCount(), topics.audienceCount());
            } else if (!closed) {
                log.warn(
                        "cannot load topics yet ({}); retrying in 2 s",
                        error.getCause() == null ? error : error.getCause().getMessage());
                background.schedule(() -> loadTopics(topics), 2, TimeUnit.SECONDS);
            }
        });
    }

    private CatalogSync catalogSync(Topics topics) {
        return new CatalogSync() {
            @Override
            public void learned(String audience, String topic, HistorySettings history) {
                topics.learned(audience, topic, history);
            }

            @Override
            public void reload() {
                loadTopics(topics);
            }
        };
    }

    /** The hub reports each fan-out batch; the meters live in {@link CourierMetrics}, which does not know the hub. */
    private static FanoutListener fanoutListener(CourierMetrics metrics) {
        return new FanoutListener() {
            @Override
            public void delivered(long deliveries) {
                metrics.delivered(deliveries);
            }

            @Override
            public void fannedOut(long nanos) {
                metrics.fannedOut(nanos);
            }
        };
    }

    /**
     * Graceful stop, within the configured shutdown timeout: answer {@code /readyz} with 503 and keep
     * serving for the drain grace (so a load balancer takes the node out of rotation before its
     * clients are cut), stop accepting, close the HTTP connections, send close 1001 to every WebSocket
     * spread evenly over the close window (so their clients reconnect to other nodes a few at a time,
     * not in one storm), let in-flight writes finish, and give up waiting at the timeout. With both
     * durations 0, as by default, it closes everything at once. Blocks the calling thread (the
     * shutdown hook's), never an event loop.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        draining = true;
        if (!config.shutdownDrainGrace().isZero()) {
            log.info(
                    "draining: /readyz answers 503 for {} s before sockets are closed",
                    config.shutdownDrainGrace().toSeconds());
            sleepUninterruptibly(config.shutdownDrainGrace());
        }
        serverChannel.close().awaitUninterruptibly();
        List<Channel> sessions = new ArrayList<>();
        for (Channel ch : openChannels) {
            if (ch.pipeline().get(Stage.WS_SESSION.handlerName()) != null) {
                sessions.add(ch);
            } else {
                ch.close();
            }
        }
        closeSpread(sessions, config.shutdownCloseSpread());
        openChannels.newCloseFuture().awaitUninterruptibly(remainingMillis(deadline));
        openChannels.close().awaitUninterruptibly(remainingMillis(deadline));
        long quiet = Math.min(100, remainingMillis(deadline));
        workers.shutdownGracefully(quiet, Math.max(quiet, remainingMillis(deadline)), TimeUnit.MILLISECONDS)
                .awaitUninterruptibly();
        boss.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly();
        background.shutdownNow();
        if (cluster != null) {
            cluster.close();
        }
        if (histories != null) {
            histories.close(); // after the loops: no publish appends any more
        }
        if (history instanceof ClusterHistory jetStream) {
            jetStream.close();
        }
        metricsRoute.close();
        jwtKeys.close();
        store.close();
        log.info("courier stopped");
    }

    /**
     * Tells session i of n to close with 1001 after {@code i * spread / n}, on its own event loop: the
     * first at once, the last one step before the window ends.
     */
    private static void closeSpread(List<Channel> sessions, Duration spread) {
        int n = sessions.size();
        for (int i = 0; i < n; i++) {
            Channel ch = sessions.get(i);
            long delayNanos = n == 0 ? 0 : spread.toNanos() / n * i;
            if (delayNanos == 0) {
                ch.pipeline().fireUserEventTriggered(ShutdownEvent.INSTANCE);
            } else {
                ch.eventLoop()
                        .schedule(
                                () -> ch.pipeline().fireUserEventTriggered(ShutdownEvent.INSTANCE),
                                delayNanos,
                                TimeUnit.NANOSECONDS);
            }
        }
        if (n > 0 && !spread.isZero()) {
            log.info("closing {} WebSockets with 1001 over {} s", n, spread.toSeconds());
        }
    }

    /** The drain grace is a wait on the shutdown thread by design: nothing signals its end. */
    private static void sleepUninterruptibly(Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        boolean interrupted = false;
        for (long left = duration.toNanos(); left > 0; left = deadline - System.nanoTime()) {
            try {
                TimeUnit.NANOSECONDS.sleep(left);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    private static long remainingMillis(long deadlineNanos) {
        return Math.max(0, Duration.ofNanos(deadlineNanos - System.nanoTime()).toMillis());
    }
}
