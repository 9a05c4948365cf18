package io.courier.bench.jmh;

import io.courier.hub.Subscriber;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.EventLoop;
import io.netty.util.concurrent.Future;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Subscribe/unsubscribe churn on the topic being published to: the registry's contention. The hub
 * changes a topic's members only on the member's own event loop, the loop that also runs the
 * fan-out, while publishers on other threads read the same maps and slot counts without a lock.
 *
 * <p>Group {@code mixed} runs one publisher thread (publish, wait for the fan-out) beside one churn
 * thread (each op: one task per loop that subscribes and then unsubscribes {@value #CHURNERS}
 * connections, i.e. {@value #CHURNERS} x 2 registry changes, and waits for it). {@code publishAlone}
 * and {@code churnAlone} are the same operations without the other thread: the contention is the
 * ratio of mixed to alone. Each op waits, so neither side can queue unbounded work.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 2,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "-Dio.netty.leakDetection.level=disabled"})
@State(Scope.Group)
public class ChurnBenchmark {
    static final String TOPIC = "news";
    /** Connections that join and leave the topic on every churn op. */
    static final int CHURNERS = 64;

    /** Subscribers that stay on the topic throughout. */
    @Param({"100", "10000"})
    int subscribers;

    @Param({"1"})
    int loops;

    @Param({"pooled"})
    String allocator;

    private HubFixture fixture;
    private ByteBuf message;
    private long fanOuts;
    /** Per loop, the churners living on it. */
    private final Map<EventLoop, List<Subscriber>> churnersByLoop = new LinkedHashMap<>();

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        fixture = new HubFixture(loops, allocator, TOPIC);
        fixture.connect(subscribers, TOPIC);
        List<Subscriber> churners = fixture.connect(CHURNERS);
        for (int i = 0; i < CHURNERS; i++) {
            churnersByLoop
                    .computeIfAbsent(fixture.loopOf(subscribers + i), l -> new ArrayList<>())
                    .add(churners.get(i));
        }
        message = Unpooled.unreleasableBuffer(Unpooled.directBuffer().writeBytes(FanoutBenchmark.json(100)));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        fixture.close();
    }

    @Benchmark
    @Group("mixed")
    @GroupThreads(1)
    public int publish() {
        int handed = fixture.hub.publish(HubFixture.AUDIENCE, TOPIC, message);
        fixture.awaitFannedOut(fanOuts += handed);
        return handed;
    }

    @Benchmark
    @Group("mixed")
    @GroupThreads(1)
    public int churn() throws Exception {
        List<Future<Integer>> done = new ArrayList<>(churnersByLoop.size());
        for (Map.Entry<EventLoop, List<Subscriber>> e : churnersByLoop.entrySet()) {
            List<Subscriber> churners = e.getValue();
            done.add(e.getKey().submit(() -> {
                int changed = 0;
                for (int i = 0, n = churners.size(); i < n; i++) {
                    Subscriber s = churners.get(i);
                    changed += fixture.hub.subscribe(s, TOPIC) ? 1 : 0;
                    changed += fixture.hub.unsubscribe(s, TOPIC) ? 1 : 0;
                }
                return changed;
            }));
        }
        int changed = 0;
        for (Future<Integer> f : done) {
            changed += f.get(60, TimeUnit.SECONDS);
        }
        if (changed != 2 * CHURNERS) {
            throw new IllegalStateException(
                    "churn changed " + changed + " memberships (expected: " + 2 * CHURNERS + ")");
        }
        return changed;
    }

    @Benchmark
    @Group("publishAlone")
    @GroupThreads(1)
    public int publishAlone() {
        return publish();
    }

    @Benchmark
    @Group("churnAlone")
    @GroupThreads(1)
    public int churnAlone() throws Exception {
        return churn();
    }
}
