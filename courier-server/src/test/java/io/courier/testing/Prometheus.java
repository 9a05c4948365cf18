package io.courier.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Debian's Prometheus ({@code /usr/bin/prometheus}) as a child process, running the shipped {@code
 * config/prometheus.yml} with only what a test must change rewritten: the scrape and evaluation
 * intervals (15 s as shipped, shorter here), the targets (the test's Courier nodes), and, for the
 * token variant, the commented {@code authorization} lines switched on with a credentials file of the
 * test's. {@code config/courier-alerts.yml} is copied beside it, so the shipped {@code rule_files}
 * entry loads the shipped rules. It listens on a free loopback port, keeps its TSDB in the test's
 * directory, is queried through its HTTP API and is stopped by its PID. {@link #promtool} runs
 * Prometheus's {@code promtool} the same way.
 *
 * <p>Not optional: CI installs the {@code prometheus} package ({@code .ci/run}), and a missing
 * binary fails the test with a message that says how to install it, rather than skipping it.
 */
public final class Prometheus implements AutoCloseable {
    public static final Path BINARY = Path.of("/usr/bin/prometheus");
    public static final Path PROMTOOL = Path.of("/usr/bin/promtool");
    /** The shipped files; tests run with the module directory as working directory. */
    public static final Path CONFIG_DIR = Path.of("..", "config");

    public static final Path SHIPPED_CONFIG = CONFIG_DIR.resolve("prometheus.yml");
    public static final Path SHIPPED_RULES = CONFIG_DIR.resolve("courier-alerts.yml");
    public static final Path SHIPPED_RULE_TESTS = CONFIG_DIR.resolve("courier-alerts.test.yml");
    public static final Path SHIPPED_DASHBOARD = CONFIG_DIR.resolve("grafana").resolve("courier.json");

    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);

    private final Process process;
    private final Path log;
    private final int port;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Prometheus(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /** What a finished promtool run printed and its exit code. */
    public record Result(int exitCode, String output) {}

    /**
     * Runs {@code promtool args} in {@code dir} (relative paths in the arguments and in the files
     * resolve there), feeding it {@code stdin} when not null; fails after a minute.
     */
    public static Result promtool(Path dir, String stdin, String... args) {
        requireInstalled(PROMTOOL);
        List<String> command = new ArrayList<>();
        command.add(PROMTOOL.toString());
        command.addAll(List.of(args));
        try {
            Path out = Files.createTempFile("promtool", ".out");
            try {
                Process p = new ProcessBuilder(command)
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .redirectOutput(out.toFile())
                        .start();
                try (var in = p.getOutputStream()) {
                    if (stdin != null) {
                        in.write(stdin.getBytes(StandardCharsets.UTF_8));
                    }
                }
                if (!p.waitFor(60, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    throw new AssertionError(command + " did not finish within 60 s");
                }
                return new Result(p.exitValue(), Files.readString(out));
            } finally {
                Files.deleteIfExists(out);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * The shipped configuration with the intervals set to {@code interval}, the targets replaced by
     * {@code targets} ({@code host:port}), and, when {@code credentialsFile} is not null, the
     * commented bearer-token lines switched on with that file. Fails when the shipped file no longer
     * has a line a rewrite needs, so the fixture cannot silently test something else.
     */
    public static String derive(String shipped, Duration interval, List<String> targets, Path credentialsFile) {
        String seconds = interval.toSeconds() + "s";
        String derived = rewrite(shipped, "(  scrape_interval: )15s", seconds, "global scrape_interval");
        derived = rewrite(derived, "(  evaluation_interval: )15s", seconds, "global evaluation_interval");
        String list = targets.stream().map(t -> "\"" + t + "\"").collect(Collectors.joining(", "));
        derived = rewrite(derived, "( +- targets: )\\[.*\\]", "[" + list + "]", "static targets");
        if (credentialsFile != null) {
            derived = rewrite(derived, "( +)#(authorization:)", "", "commented authorization");
            derived = rewrite(derived, "( +)#(  type: Bearer)", "", "commented authorization type");
            derived = rewrite(
                    derived,
                    "( +)#(  credentials_file: ).*",
                    credentialsFile.toAbsolutePath().toString(),
                    "commented credentials_file");
        }
        return derived;
    }

    /** Replaces each whole line matching {@code line} by its groups followed by {@code tail}. */
    private static String rewrite(String text, String line, String tail, String what) {
        Matcher m = Pattern.compile("(?m)^" + line + "$").matcher(text);
        if (!m.find()) {
            throw new AssertionError(SHIPPED_CONFIG + ": no line for the " + what + " to rewrite");
        }
        return m.replaceAll(r -> {
            StringBuilder kept = new StringBuilder();
            for (int g = 1; g <= r.groupCount(); g++) {
                kept.append(r.group(g));
            }
            return Matcher.quoteReplacement(kept + tail);
        });
    }

    /**
     * Writes {@code dir/prometheus.yml} (see {@link #derive}) and a copy of the shipped rules beside
     * it, starts Prometheus on it and returns once it reports ready.
     */
    public static Prometheus start(Path dir, Duration interval, List<String> targets, Path credentialsFile) {
        requireInstalled(BINARY);
        int port = freePort();
        Path config = dir.resolve("prometheus.yml");
        Path log = dir.resolve("prometheus.log");
        try {
            Files.createDirectories(dir);
            Files.writeString(config, derive(Files.readString(SHIPPED_CONFIG), interval, targets, credentialsFile));
            Files.copy(SHIPPED_RULES, dir.resolve(SHIPPED_RULES.getFileName()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ProcessBuilder builder = new ProcessBuilder(
                        BINARY.toString(),
                        "--config.file=" + config,
                        "--storage.tsdb.path=" + dir.resolve("data"),
                        "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + builder.command(), e);
        }
        Prometheus prometheus = new Prometheus(process, log, port);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!prometheus.ready()) {
            if (!process.isAlive()) {
                throw new AssertionError(
                        "prometheus exited with " + process.exitValue() + " before ready:\n" + prometheus.log());
            }
            if (System.nanoTime() > deadline) {
                prometheus.close();
                throw new AssertionError("prometheus not ready within " + START_TIMEOUT + ":\n" + prometheus.log());
            }
            sleep(100);
        }
        return prometheus;
    }

    public int port() {
        return port;
    }

    private boolean ready() {
        try {
            return get("/-/ready").statusCode() == 200;
        } catch (UncheckedIOException e) {
            return false;
        }
    }

    /** GET {@code pathAndQuery} on Prometheus's HTTP server. */
    public HttpResponse<String> get(String pathAndQuery) {
        try {
            return http.send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + pathAndQuery))
                            .timeout(Duration.ofSeconds(10))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /**
     * The answer of {@code GET /api/v1/<endpoint>} as a JSON object, whatever its status: an invalid
     * query comes back as {@code {"status":"error","errorType":…,"error":…}}.
     */
    public Map<String, Object> api(String endpoint) {
        HttpResponse<String> r = get("/api/v1/" + endpoint);
        if (!r.headers().firstValue("content-type").orElse("").startsWith("application/json")) {
            throw new AssertionError("GET /api/v1/" + endpoint + ": " + r.statusCode() + " " + r.body());
        }
        return JsonTree.object(r.body());
    }

    /** An instant query; the whole answer (see {@link #api}). */
    public Map<String, Object> query(String promql) {
        return api("query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    }

    /**
     * The value of an instant query that must return exactly one sample, or NaN when it returns
     * none; an error or several samples fail.
     */
    public double value(String promql) {
        Map<String, Object> answer = query(promql);
        if (!"success".equals(answer.get("status"))) {
            throw new AssertionError(promql + ": " + answer);
        }
        List<Object> result =
                JsonTree.asList(JsonTree.asObject(answer.get("data"), "data").get("result"), "result");
        if (result.isEmpty()) {
            return Double.NaN;
        }
        if (result.size() > 1) {
            throw new AssertionError(promql + ": expected one sample, got " + result);
        }
        List<Object> sample =
                JsonTree.asList(JsonTree.asObject(result.get(0), "sample").get("value"), "value");
        return Double.parseDouble((String) sample.get(1));
    }

    /** Every metric name Prometheus holds ({@code /api/v1/label/__name__/values}). */
    public List<String> metricNames() {
        Map<String, Object> answer = api("label/__name__/values");
        return JsonTree.asList(answer.get("data"), "data").stream()
                .map(String.class::cast)
                .toList();
    }

    public String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "(no log)";
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    private static void requireInstalled(Path binary) {
        if (!Files.isExecutable(binary)) {
            throw new AssertionError(binary + " is not installed: apt-get install prometheus (.ci/run does)");
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** SIGTERM by PID, then SIGKILL if it has not stopped within 10 s. */
    @Override
    public void close() {
        Processes.stop(process, STOP_TIMEOUT);
    }
}
