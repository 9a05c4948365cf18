package io.courier.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Debian's HAProxy ({@code /usr/sbin/haproxy}) as a child process, running a configuration derived
 * from the shipped {@code config/haproxy.cfg}, so the tests exercise what operators install: the
 * frontend's bind becomes 127.0.0.1 on a free port, the stats listener another free port, the server
 * lines the given Courier nodes (named {@code node1}, {@code node2}, ... in that order, with the
 * shipped line's options), and the global settings that need a system install (chroot, user, syslog,
 * the admin socket, daemon mode) are dropped; logs go to stderr, into {@code haproxy.log} beside the
 * configuration. Started in the foreground ({@code -db}) and stopped by its PID.
 *
 * <p>HAProxy is not optional: CI installs it ({@code .ci/run}), and a missing binary fails the test
 * with a message that says how to install it, rather than skipping it.
 */
public final class HaProxy implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/sbin/haproxy");
    /** The shipped configuration; tests run with the module directory as working directory. */
    public static final Path SHIPPED_CONFIG = Path.of("..", "config", "haproxy.cfg");

    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final Set<String> SYSTEM_ONLY_GLOBALS = Set.of("log", "chroot", "user", "group", "daemon", "stats");

    private final Process process;
    private final Path log;
    private final int port;
    private final int statsPort;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private HaProxy(Process process, Path log, int port, int statsPort) {
        this.process = process;
        this.log = log;
        this.port = port;
        this.statsPort = statsPort;
    }

    /** As {@link #start(Path, int, List, boolean)} with the PROXY protocol sent, as shipped. */
    public static HaProxy start(Path dir, int port, List<Integer> nodePorts) {
        return start(dir, port, nodePorts, true);
    }

    /**
     * Writes {@code dir/haproxy.cfg} and starts HAProxy on it, returning once {@code port} accepts.
     *
     * @param port the frontend's port on 127.0.0.1 (see {@link #freePort()}); chosen by the caller so
     *     the nodes can be started with {@code COURIER_WS_URL} pointing at it before HAProxy runs
     * @param nodePorts the Courier nodes on 127.0.0.1, at least one
     * @param sendProxy keep the shipped {@code send-proxy-v2} on the server lines; the nodes must then
     *     run with the PROXY protocol on
     */
    public static HaProxy start(Path dir, int port, List<Integer> nodePorts, boolean sendProxy) {
        return start(dir, port, nodePorts, sendProxy, null);
    }

    /**
     * As {@link #start(Path, int, List, boolean)} with the health checks' {@code inter} replaced
     * (e.g. {@code "500ms"} instead of the shipped {@code 2s}) so that a test sees a state change
     * sooner; {@code fall} and {@code rise} stay as shipped. Null keeps the shipped interval.
     */
    public static HaProxy start(Path dir, int port, List<Integer> nodePorts, boolean sendProxy, String checkInter) {
        Path binary = binary();
        int statsPort = freePort();
        Path config = dir.resolve("haproxy.cfg");
        Path log = dir.resolve("haproxy.log");
        try {
            Files.createDirectories(dir);
            String derived = derive(shippedConfig(), port, statsPort, nodePorts, sendProxy);
            if (checkInter != null) {
                String faster = derived.replaceFirst("(?m)^(\\s+default-server check inter )\\S+", "$1" + checkInter);
                if (faster.equals(derived)) {
                    throw new AssertionError(SHIPPED_CONFIG + " has no 'default-server check inter' line to rewrite");
                }
                derived = faster;
            }
            Files.writeString(config, derived);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessBuilder builder = new ProcessBuilder(binary.toString(), "-f", config.toString(), "-db")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + builder.command(), e);
        }
        HaProxy haProxy = new HaProxy(process, log, port, statsPort);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!accepts(port)) {
            if (!process.isAlive()) {
                throw new AssertionError(
                        "haproxy exited with " + process.exitValue() + " before listening:\n" + haProxy.log());
            }
            if (System.nanoTime() > deadline) {
                haProxy.close();
                throw new AssertionError(
                        "haproxy not accepting on port " + port + " within " + START_TIMEOUT + ":\n" + haProxy.log());
            }
            pause(20);
        }
        return haProxy;
    }

    /** The HAProxy binary, failing the test (never skipping it) when it is not installed. */
    public static Path binary() {
        if (!Files.isExecutable(BINARY)) {
            throw new AssertionError(BINARY + " not found: the load balancer tests need Debian's haproxy package"
                    + " (apt-get install -y haproxy; .ci/run installs it)");
        }
        return BINARY;
    }

    /** The text of the shipped {@code config/haproxy.cfg}. */
    public static String shippedConfig() {
        try {
            return Files.readString(SHIPPED_CONFIG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + SHIPPED_CONFIG.toAbsolutePath(), e);
        }
    }

    /**
     * {@code haproxy -c -f config}: the exit status and everything it printed. HAProxy exits 0 on a
     * valid file, and prints {@code [WARNING]} or {@code [ALERT]} lines for anything doubtful.
     */
    public static Check check(Path config) {
        Path binary = binary();
        try {
            Process p = new ProcessBuilder(binary.toString(), "-c", "-f", config.toString())
                    .redirectErrorStream(true)
                    .start();
            // The output is a few lines; reading to the end returns once haproxy exits.
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("haproxy -c did not finish within " + STOP_TIMEOUT);
            }
            return new Check(p.exitValue(), output);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** What {@code haproxy -c} said. */
    public record Check(int exitStatus, String output) {}

    /**
     * The shipped configuration rewritten for a test (see the class comment). Fails when the shipped
     * file lacks a piece the rewrite relies on, so that an edit to it cannot silently test nothing.
     */
    public static String derive(String shipped, int port, int statsPort, List<Integer> nodePorts, boolean sendProxy) {
        if (nodePorts.isEmpty()) {
            throw new IllegalArgumentException("nodePorts: empty (expected: at least one node)");
        }
        List<String> out = new ArrayList<>();
        String section = "";
        boolean frontendBound = false;
        boolean statsBound = false;
        boolean serversWritten = false;
        for (String line : shipped.split("\n", -1)) {
            String trimmed = line.strip();
            if (trimmed.isEmpty() || trimmed.startsWith("#")) {
                out.add(line);
                continue;
            }
            if (!Character.isWhitespace(line.charAt(0))) {
                section = trimmed.split("\\s+")[0];
                out.add(line);
                if (section.equals("global")) {
                    // Logs to the fixture's log file instead of syslog.
                    out.add("    log stderr format raw local0 info");
                }
                continue;
            }
            String[] words = trimmed.split("\\s+");
            if (!sendProxy) {
                line = withoutWord(line, "send-proxy-v2");
            }
            switch (section) {
                case "global" -> {
                    if (!SYSTEM_ONLY_GLOBALS.contains(words[0])) {
                        out.add(line);
                    }
                }
                case "frontend" -> {
                    if (!words[0].equals("bind")) {
                        out.add(line);
                    } else if (!frontendBound) {
                        out.add("    bind 127.0.0.1:" + port);
                        frontendBound = true;
                    }
                }
                case "listen" -> {
                    if (!words[0].equals("bind")) {
                        out.add(line);
                    } else if (!statsBound) {
                        out.add("    bind 127.0.0.1:" + statsPort);
                        statsBound = true;
                    }
                }
                case "backend" -> {
                    if (!words[0].equals("server")) {
                        out.add(line);
                    } else if (!serversWritten) {
                        // The first shipped server line is the template: its options after the address.
                        String options = Arrays.stream(line.strip().split("\\s+"))
                                .skip(3)
                                .collect(Collectors.joining(" "));
                        for (int i = 0; i < nodePorts.size(); i++) {
                            out.add(("    server " + serverName(i) + " 127.0.0.1:" + nodePorts.get(i) + " " + options)
                                    .stripTrailing());
                        }
                        serversWritten = true;
                    }
                }
                default -> out.add(line);
            }
        }
        if (!frontendBound || !statsBound || !serversWritten) {
            throw new AssertionError(SHIPPED_CONFIG + " lacks a frontend bind (" + frontendBound
                    + "), a stats listen bind (" + statsBound + ") or backend server lines (" + serversWritten
                    + "); the test fixture derives its configuration from it");
        }
        return String.join("\n", out);
    }

    /** The name the derived configuration gives the node at {@code index} of nodePorts. */
    public static String serverName(int index) {
        return "node" + (index + 1);
    }

    /** A port that was free on 127.0.0.1 a moment ago. */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Each server's state as HAProxy's stats page reports it ({@code UP}, {@code DOWN}, or a
     * transition such as {@code UP 1/2}), by server name, from {@code /stats;csv}.
     */
    public Map<String, String> serverStates() {
        String csv = stats();
        String[] lines = csv.split("\n");
        List<String> header = Arrays.asList(lines[0].replaceFirst("^# ", "").split(",", -1));
        int kind = header.indexOf("type");
        int name = header.indexOf("svname");
        int status = header.indexOf("status");
        if (kind < 0 || name < 0 || status < 0) {
            throw new AssertionError("unexpected stats CSV header: " + lines[0]);
        }
        Map<String, String> states = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            String[] fields = lines[i].split(",", -1);
            if (fields.length > status && fields[kind].equals("2")) { // type 2: a server
                states.put(fields[name], fields[status]);
            }
        }
        return states;
    }

    /** Waits until {@code server} is in {@code state} ({@code UP} or {@code DOWN}), failing with the log when it isn't in time. */
    public void awaitState(String server, String state, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        String last = null;
        while (System.nanoTime() < deadline) {
            last = serverStates().get(server);
            if (state.equals(last)) {
                return;
            }
            pause(50);
        }
        throw new AssertionError("haproxy server " + server + " not " + state + " within " + timeout + " (last: " + last
                + ")\n" + log());
    }

    private String stats() {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + statsPort + "/stats;csv"))
                .timeout(Duration.ofSeconds(5))
                .build();
        try {
            HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new AssertionError("haproxy stats: " + r.statusCode() + " " + r.body());
            }
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** SIGTERM to HAProxy's PID (it stops at once), SIGKILL if it is still there after the timeout. */
    @Override
    public void close() {
        Processes.stop(process, STOP_TIMEOUT);
    }

    private static String withoutWord(String line, String word) {
        return line.replaceAll("\\s+" + word + "(?=\\s|$)", "");
    }

    private static boolean accepts(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis); // pacing between polls, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public String toString() {
        return "haproxy pid " + process.pid() + " on port " + port;
    }
}
