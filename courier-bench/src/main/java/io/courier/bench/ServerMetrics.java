package io.courier.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Optional;

/**
 * The server's own account of a run, from its Prometheus {@code /metrics} before and after: what it
 * counted as delivered, its CPU time, heap and Netty direct memory. A scrape that fails gives an
 * empty snapshot (the summary says "n/a"), since a run should not die of a disabled endpoint.
 * Main thread only.
 */
final class ServerMetrics {
    private static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** One scrape; a value is -1 when the server did not report it. */
    record Snapshot(
            boolean ok,
            double deliveries,
            double cpuSeconds,
            double heapUsedBytes,
            double directUsedBytes,
            double connections,
            double slowConsumerCloses) {
        static final Snapshot NONE = new Snapshot(false, -1, -1, -1, -1, -1, -1);

        /** {@code after - this} for counters, -1 when either is unknown. */
        static double delta(double before, double after) {
            return before < 0 || after < 0 ? -1 : after - before;
        }
    }

    private final URI metrics;
    private final Optional<String> token;
    private final boolean enabled;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(TIMEOUT).build();

    /** @param enabled false for a target other than Courier: every scrape is then empty */
    ServerMetrics(URI base, Optional<String> token, boolean enabled) {
        this.metrics = base.resolve("/metrics");
        this.token = token;
        this.enabled = enabled;
    }

    /**
     * One scrape, tried twice: a kept-alive connection the server closed as idle (after its request
     * timeout) can fail the first attempt, and one lost sample would lose a slow-consumer timing.
     */
    Snapshot scrape() {
        if (!enabled) {
            return Snapshot.NONE;
        }
        Snapshot s = scrapeOnce();
        return s.ok() ? s : scrapeOnce();
    }

    private Snapshot scrapeOnce() {
        HttpRequest.Builder request =
                HttpRequest.newBuilder(metrics).timeout(TIMEOUT).GET();
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 ? parse(response.body()) : Snapshot.NONE;
        } catch (IOException e) {
            return Snapshot.NONE;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Snapshot.NONE;
        }
    }

    /** Sums the series of each metric the snapshot needs from Prometheus text exposition format. */
    static Snapshot parse(String text) {
        double cpuNanos = sum(text, "process_cpu_time_ns_total", "");
        return new Snapshot(
                true,
                sum(text, "courier_deliveries_total", ""),
                cpuNanos < 0 ? -1 : cpuNanos / 1e9,
                sum(text, "jvm_memory_used_bytes", "area=\"heap\""),
                sum(text, "netty_allocator_memory_used", "memory_type=\"direct\""),
                sum(text, "courier_connections", ""),
                sum(text, "courier_connections_closed_total", "reason=\"slow_consumer\""));
    }

    /** The sum over the series of {@code name} whose labels contain {@code label}; -1 when there is none. */
    private static double sum(String text, String name, String label) {
        double total = 0;
        boolean found = false;
        for (String line : text.split("\n")) {
            if (!line.startsWith(name) || line.length() == name.length()) {
                continue;
            }
            char next = line.charAt(name.length());
            if (next != ' ' && next != '{') {
                continue; // another metric whose name starts with this one
            }
            int space = line.lastIndexOf(' ');
            String series = line.substring(0, space);
            if (!label.isEmpty() && !series.contains(label)) {
                continue;
            }
            try {
                total += Double.parseDouble(line.substring(space + 1));
                found = true;
            } catch (NumberFormatException e) {
                // a value we cannot read counts as absent
            }
        }
        return found ? total : -1;
    }
}
