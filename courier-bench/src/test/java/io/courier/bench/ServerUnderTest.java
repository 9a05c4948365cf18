package io.courier.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One server of a comparison target in its own process, as {@code scripts/bench-compare} starts it:
 * Courier from its jar, nats-server with a WebSocket listener, or the Socket.IO server on Node. Each
 * picks a free loopback port itself and logs it; this waits for that line. Stopped by its PID.
 * (The server module's test kit has a nats-server too, but without the WebSocket listener, and it is
 * not on this module's class path.)
 */
final class ServerUnderTest implements AutoCloseable {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Path REPO = Path.of("..").toAbsolutePath().normalize();

    private final Process process;
    private final int port;
    private final Map<String, String> clientFlags;

    private ServerUnderTest(Process process, int port, Map<String, String> clientFlags) {
        this.process = process;
        this.port = port;
        this.clientFlags = clientFlags;
    }

    static ServerUnderTest courier(Path dir) throws Exception {
        Path jar = REPO.resolve("courier-server/target/courier-server.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " missing (mvn package builds it before this module's tests)");
        }
        String secret = "it-secret-0123456789abcdef0123456789";
        ProcessBuilder b = new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"), "-Xmx256m", "-jar", jar.toString());
        b.environment()
                .putAll(Map.of(
                        "COURIER_HOST", "127.0.0.1",
                        "COURIER_PORT", "0",
                        "COURIER_DATA_DIR", dir.resolve("courier-data").toString(),
                        "COURIER_DATABASE_URL", "",
                        "COURIER_JWT_SECRET", secret,
                        "COURIER_JWT_KEY_FILE", "",
                        "COURIER_JWT_ISSUER", ""));
        return start(
                b, dir.resolve("courier.log"), "courier listening on http://[^ ]*:(\\d+) ", Map.of("--secret", secret));
    }

    static ServerUnderTest nats(Path dir) throws Exception {
        Path binary = Path.of(System.getenv().getOrDefault("NATS_SERVER", "/usr/sbin/nats-server"));
        if (!Files.isExecutable(binary)) {
            throw new IllegalStateException(binary + " missing (apt-get install nats-server; .ci/run does)");
        }
        Path conf = dir.resolve("nats.conf");
        Files.writeString(conf, """
                listen: 127.0.0.1:-1
                websocket {
                  listen: "127.0.0.1:-1"
                  no_tls: true
                  compression: false
                }
                """);
        return start(
                new ProcessBuilder(binary.toString(), "-c", conf.toString()),
                dir.resolve("nats.log"),
                "websocket clients on ws://[^ ]*:(\\d+)",
                Map.of());
    }

    /** Installs socket.io 4.8.4 from the npm registry into target/socketio when it is not there yet, as the script does. */
    static ServerUnderTest socketIo(Path dir) throws Exception {
        Path source = REPO.resolve("courier-bench/socketio");
        Path install = REPO.resolve("courier-bench/target/socketio");
        Files.createDirectories(install);
        for (String f : List.of("package.json", "server.js")) {
            Files.copy(source.resolve(f), install.resolve(f), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        if (!Files.isRegularFile(install.resolve("node_modules/socket.io/package.json"))) {
            Process npm = new ProcessBuilder("npm", "install", "--no-audit", "--no-fund", "--loglevel=error")
                    .directory(install.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(dir.resolve("npm.log").toFile())
                    .start();
            if (!npm.waitFor(240, TimeUnit.SECONDS) || npm.exitValue() != 0) {
                npm.destroyForcibly();
                throw new IllegalStateException("npm install failed: " + Files.readString(dir.resolve("npm.log")));
            }
        }
        return start(
                new ProcessBuilder("node", install.resolve("server.js").toString(), "0"),
                dir.resolve("socketio.log"),
                "socketio listening on [^ ]*:(\\d+) ",
                Map.of());
    }

    private static ServerUnderTest start(ProcessBuilder b, Path log, String portLine, Map<String, String> clientFlags)
            throws Exception {
        Process p = b.redirectErrorStream(true).redirectOutput(log.toFile()).start();
        Pattern pattern = Pattern.compile(portLine);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            Matcher m = pattern.matcher(read(log));
            if (m.find()) {
                return new ServerUnderTest(p, Integer.parseInt(m.group(1)), clientFlags);
            }
            if (!p.isAlive()) {
                throw new IllegalStateException("exited during startup: " + read(log));
            }
            Thread.sleep(50);
        }
        p.destroyForcibly();
        throw new IllegalStateException("no port within " + START_TIMEOUT + ": " + read(log));
    }

    private static String read(Path log) {
        try {
            return Files.readString(log);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    int port() {
        return port;
    }

    long pid() {
        return process.pid();
    }

    /** What the load client needs besides the URL (Courier's secret). */
    Map<String, String> clientFlags() {
        return clientFlags;
    }

    @Override
    public void close() {
        process.destroy(); // SIGTERM, to this PID only
        try {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
