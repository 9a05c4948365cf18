package io.courier.bench.jmh;

import io.courier.hub.Frames;
import io.courier.protocol.Command;
import io.courier.protocol.Replies;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
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
 * What a publisher's frame costs once, before any fan-out: decoding and validating the inbound
 * {@code publish} text ({@link Command#decode}, which streams over the message object to find its
 * bytes), building the outbound frame from those bytes ({@link Frames#frame}), and the ack
 * ({@link Replies#ack}). {@code messageBytes} is the size of the {@code message} object.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
        value = 2,
        jvmArgsAppend = {"-Xms1g", "-Xmx1g", "-XX:+UseG1GC", "-Dio.netty.leakDetection.level=disabled"})
@State(Scope.Thread)
public class FrameBenchmark {
    /** The bytes the hub puts before the message: what {@code Frames.publishPrefix("news")} encodes once per topic. */
    private static final byte[] PREFIX =
            "{\"action\":\"publish\",\"topic\":\"news\",\"message\":".getBytes(StandardCharsets.US_ASCII);

    @Param({"64", "1024", "16384"})
    int messageBytes;

    /** The server's allocator, as in {@code CourierServer}. */
    private final ByteBufAllocator alloc = ByteBufAllocator.DEFAULT;

    private ByteBuf inbound;
    private ByteBuf message;
    private Command decoded;

    @Setup(Level.Trial)
    public void setUp() {
        byte[] object = FanoutBenchmark.json(messageBytes);
        String request = "{\"action\":\"publish\",\"topic\":\"news\",\"message\":"
                + new String(object, StandardCharsets.US_ASCII) + ",\"id\":7}";
        // Inbound frames arrive in direct buffers; the decoder reads the unmasked payload in place.
        inbound = Unpooled.directBuffer().writeBytes(request.getBytes(StandardCharsets.US_ASCII));
        decoded = Command.decode(inbound);
        if (decoded.failed()) {
            throw new IllegalStateException(
                    "benchmark input refused: " + decoded.error().getMessage());
        }
        message = decoded.message(inbound);
        if (message.readableBytes() != messageBytes) {
            throw new IllegalStateException(
                    "message is " + message.readableBytes() + " bytes (expected: " + messageBytes + ")");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        inbound.release();
    }

    @Benchmark
    public Command decode() {
        return Command.decode(inbound);
    }

    @Benchmark
    public int frame() {
        ByteBuf frame = Frames.frame(alloc, PREFIX, message);
        try {
            return frame.readableBytes();
        } finally {
            frame.release();
        }
    }

    /** The whole inbound-to-outbound step of one publish: decode, validate, locate the message, frame it. */
    @Benchmark
    public int decodeAndFrame() {
        Command command = Command.decode(inbound);
        ByteBuf frame = Frames.frame(alloc, PREFIX, command.message(inbound));
        try {
            return frame.readableBytes();
        } finally {
            frame.release();
        }
    }

    @Benchmark
    public int ack() {
        ByteBuf ack = Replies.ack(alloc, decoded);
        try {
            return ack.readableBytes();
        } finally {
            ack.release();
        }
    }
}
