package io.courier.bench.jmh;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One publish to N subscribers through the real {@link io.courier.hub.Hub}: encode the frame once,
 * hand it to the event loop, write it to every subscriber (shared when it is the only frame of the
 * drain, as here), flush each once. An operation ends when the hub's listener reports the fan-out done on every loop, so ns/op
 * is the whole fan-out, wake-up of the loop included, and {@code gc.alloc.rate.norm} is every byte
 * allocated for one publish on any thread. Divide by N for the cost of one delivery.
 *
 * <p>The target (STYLE.md section 5): allocation per publish independent of N. {@code allocator}
 * compares what the server hands the hub ({@code ByteBufAllocator.DEFAULT}, adaptive in Netty 4.2)
 * with the pooled allocator, whose duplicates are recycled objects.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 2,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "-Dio.netty.leakDetection.level=disabled"})
@State(Scope.Benchmark)
public class FanoutBenchmark {
    static final String TOPIC = "news";

    @Param({"1", "100", "10000"})
    int subscribers;

    @Param({"adaptive", "pooled"})
    String allocator;

    /** Event loops the subscribers are spread over; the server runs one per core. */
    @Param({"1"})
    int loops;

    /** The published JSON object; 100 B as in the load generator's fan-out scenarios. */
    @Param({"100"})
    int messageBytes;

    private HubFixture fixture;
    private ByteBuf message;
    private long fanOuts;
    private long operations;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        fixture = new HubFixture(loops, allocator, TOPIC);
        fixture.connect(subscribers, TOPIC);
        message =
                Unpooled.unreleasableBuffer(Unpooled.directBuffer(messageBytes).writeBytes(json(messageBytes)));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        long expected = operations * subscribers;
        long delivered = fixture.counter.delivered();
        fixture.close();
        if (delivered != expected) {
            throw new IllegalStateException("delivered " + delivered + " frames (expected: " + operations
                    + " publishes x " + subscribers + " subscribers = " + expected + ")");
        }
    }

    @Benchmark
    public int publish() {
        int handed = fixture.hub.publish(HubFixture.AUDIENCE, TOPIC, message);
        operations++;
        fixture.awaitFannedOut(fanOuts += handed);
        return handed;
    }

    /**
     * {@value #BURST} publishes handed over before the loop runs, as at depth (many publishes queued
     * per drain): the cost per delivery when each subscriber gets many frames per drain.
     */
    @Benchmark
    @OperationsPerInvocation(BURST)
    public int publishBurst() {
        int handed = 0;
        for (int i = 0; i < BURST; i++) {
            handed += fixture.hub.publish(HubFixture.AUDIENCE, TOPIC, message);
        }
        operations += BURST;
        fixture.awaitFannedOut(fanOuts += handed);
        return handed;
    }

    static final int BURST = 100;

    /** The same fan-out through the audience-wide group every connection joins. */
    @Benchmark
    public int broadcast() {
        int handed = fixture.hub.broadcast(HubFixture.AUDIENCE, message);
        operations++;
        fixture.awaitFannedOut(fanOuts += handed);
        return handed;
    }

    /**
     * The default leak detector (SIMPLE, which the server runs with unless told otherwise) samples
     * about one buffer in 128; the sampled frame's duplicates are then tracked too.
     */
    @Benchmark
    @Fork(
            value = 2,
            jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "-Dio.netty.leakDetection.level=simple"})
    public int publishLeakDetectionSimple() {
        return publish();
    }

    /**
     * With Netty's recycler sized for the fan-out. Its per-thread pool takes back up to
     * {@code io.netty.recycler.chunkSize} (default 32) objects without allocating; past that each
     * recycled duplicate and outbound-buffer entry goes through a chunked MPSC queue that allocates a
     * new chunk every 32 offers, and past {@code maxCapacityPerThread} (default 4096) objects are not
     * pooled at all. One loop holds a duplicate and an entry per subscriber until its flush.
     */
    @Benchmark
    @Fork(
            value = 2,
            jvmArgsAppend = {
                "-Xms1g",
                "-Xmx1g",
                "-XX:+UseG1GC",
                "-Dio.netty.leakDetection.level=disabled",
                "-Dio.netty.recycler.chunkSize=16384",
                "-Dio.netty.recycler.maxCapacityPerThread=65536"
            })
    public int publishRecyclerSized() {
        return publish();
    }

    /** A JSON object of exactly {@code bytes} bytes: {@code {"seq":1,"text":"..."}}. */
    static byte[] json(int bytes) {
        String head = "{\"seq\":1,\"text\":\"";
        String tail = "\"}";
        int fill = bytes - head.length() - tail.length();
        if (fill < 0) {
            throw new IllegalArgumentException(
                    "messageBytes: " + bytes + " (expected: at least " + (head.length() + tail.length()) + ")");
        }
        StringBuilder sb = new StringBuilder(bytes).append(head);
        String words = "the quick brown fox jumps over the lazy dog ";
        for (int i = 0; i < fill; i++) {
            sb.append(words.charAt(i % words.length()));
        }
        return sb.append(tail).toString().getBytes(StandardCharsets.US_ASCII);
    }
}
