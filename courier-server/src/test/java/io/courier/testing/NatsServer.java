package io.courier.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A {@code nats-server} of the test's own (Debian's package, {@code /usr/sbin/nats-server}) on a free
 * loopback port, never the shared one on 4222. It can be killed with SIGKILL and started again on
 * the same port, to test what a node does when NATS fails. {@code .ci/run} installs the package when
 * the binary is missing.
 */
public final class NatsServer implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final Path binary;
    private final int port;
    private final Path log;
    /** JetStream's file store, under target/ (history topics live there); kept across {@link #restart}. */
    private final Path store;

    private Process process;

    private NatsServer(Path binary, int port, Path log, Path store) {
        this.binary = binary;
        this.port = port;
        this.log = log;
        this.store = store;
    }

    /** The nats-server binary, or null when it is not installed. */
    public static Path binary() {
        for (String candidate :
                List.of("/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server")) {
            Path p = Path.of(candidate);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        return null;
    }

    /** Starts one on a free port and returns once it accepts connections. */
    public static NatsServer start() {
        Path binary = binary();
        if (binary == null) {
            throw new IllegalStateException("nats-server is not installed (apt-get install nats-server; .ci/run does)");
        }
        try {
            Path store =
                    Path.of("target", "nats-js", UUID.randomUUID().toString()).toAbsolutePath();
            Files.createDirectories(store);
            NatsServer server = new NatsServer(binary, freePort(), Files.createTempFile("nats-server", ".log"), store);
            server.launch();
            return server;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public String url() {
        return "nats://127.0.0.1:" + port;
    }

    /** SIGKILL: no goodbye to its clients, as when the machine dies. Returns once the process is gone. */
    public void kill() {
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError("nats-server did not die within 10 s of SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** A new nats-server on the same port, once it accepts connections. */
    public void restart() {
        launch();
    }

    private void launch() {
        try {
            process = new ProcessBuilder(
                            binary.toString(),
                            "-p",
                            Integer.toString(port),
                            "-a",
                            "127.0.0.1",
                            "--no_advertise",
                            "-js",
                            "-sd",
                            store.toString())
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!accepts()) {
            if (!process.isAlive()) {
                throw new AssertionError("nats-server exited with " + process.exitValue() + "; see " + log);
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("nats-server did not accept on port " + port + " within " + START_TIMEOUT);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }

    private boolean accepts() {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 200);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            kill();
        }
        try {
            Files.deleteIfExists(log);
            try (var paths = Files.walk(store)) {
                paths.sorted(java.util.Comparator.reverseOrder())
                        .forEach(p -> p.toFile().delete());
            }
        } catch (IOException ignored) {
            // a leftover log or store is harmless
        }
    }
}
