package io.courier.bench;

import java.net.URI;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The command line of {@link Load}, validated once. Every flag takes a value; a later flag wins, so
 * scripts can append overrides to a scenario's defaults.
 *
 * @param window       publishes sent but not yet acknowledged, at most
 * @param maxLagMessages deliveries outstanding (published × subscribers − received), at most this many
 *                     messages per subscriber; 0 turns the bound off. Acks only say the server queued a
 *                     publish, so without this bound "as fast as possible" measures queue growth and
 *                     slow-consumer disconnects instead of sustained fan-out.
 * @param sampleEvery  each subscriber records the latency of one publish in this many
 * @param serverPid    when > 0, the server's CPU time is read from /proc for the summary
 */
record LoadOptions(String scenario, URI url, String secret, String audience, int subscribers, int topics,
                   int sizeBytes, int durationSeconds, int rate, int window, int maxLagMessages, int sampleEvery,
                   int maxHandshakes, int threads, long serverPid, int drainTimeoutSeconds, int connectTimeoutSeconds,
                   Optional<Path> json) {

    static final String USAGE = """
            usage: java -jar courier-bench.jar --url http://127.0.0.1:PORT --secret S [flags]
              --scenario fanout|connections   (fanout)
              --audience NAME                 (random bench-<uuid>.test)
              --subscribers N                 (1000)
              --topics T                      (1; subscriber i takes topic i mod T)
              --size BYTES                    (100; size of each published message object)
              --duration SECONDS              (20; publishing time, or holding time for connections)
              --rate R                        (0 = as fast as the window allows; else publishes/s in total)
              --window W                      (64; un-acked publishes in flight)
              --max-lag M                     (1000; outstanding deliveries per subscriber, 0 = unbounded)
              --sample-every K                (100; latency sampled for 1 in K deliveries)
              --handshakes H                  (200; WebSocket handshakes in flight)
              --threads N                     (available processors; subscriber event loops)
              --server-pid PID                (0; read the server's CPU time from /proc)
              --drain-timeout SECONDS         (30; wait for deliveries after the last publish)
              --connect-timeout SECONDS       (300; to open all connections)
              --json FILE                     (write the summary as JSON)
            --secret defaults to $COURIER_JWT_SECRET.""";

    static LoadOptions parse(String[] args, Map<String, String> env) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("'" + args[i] + "' (expected: --flag VALUE pairs)");
            }
            flags.put(args[i], args[i + 1]);
        }
        Flags f = new Flags(flags);
        String scenario = f.string("--scenario", "fanout");
        if (!scenario.equals("fanout") && !scenario.equals("connections")) {
            throw new IllegalArgumentException("--scenario: " + scenario + " (expected: fanout or connections)");
        }
        URI url = URI.create(f.required("--url"));
        if (!"http".equals(url.getScheme()) || url.getPort() < 0) {
            throw new IllegalArgumentException("--url: " + url + " (expected: http://HOST:PORT)");
        }
        String secret = f.string("--secret", env.getOrDefault("COURIER_JWT_SECRET", ""));
        if (secret.length() < 32) {
            throw new IllegalArgumentException("--secret: " + secret.length() + " characters (expected: the server's HS256 secret, at least 32)");
        }
        LoadOptions options = new LoadOptions(scenario, url, secret,
                f.string("--audience", "bench-" + UUID.randomUUID() + ".test"),
                f.integer("--subscribers", 1000, 0),
                f.integer("--topics", 1, 1),
                f.integer("--size", 100, 1),
                f.integer("--duration", 20, 1),
                f.integer("--rate", 0, 0),
                f.integer("--window", 64, 1),
                f.integer("--max-lag", 1000, 0),
                f.integer("--sample-every", 100, 1),
                f.integer("--handshakes", 200, 1),
                f.integer("--threads", Runtime.getRuntime().availableProcessors(), 1),
                f.integer("--server-pid", 0, 0),
                f.integer("--drain-timeout", 30, 1),
                f.integer("--connect-timeout", 300, 1),
                Optional.ofNullable(flags.remove("--json")).map(Path::of));
        if (!flags.isEmpty()) {
            throw new IllegalArgumentException("unknown flag " + flags.keySet().iterator().next());
        }
        return options;
    }

    /** Reads and removes flags, so whatever is left over is unknown. */
    private record Flags(Map<String, String> map) {
        String required(String name) {
            String v = map.remove(name);
            if (v == null) {
                throw new IllegalArgumentException(name + ": missing (expected: a value)");
            }
            return v;
        }

        String string(String name, String fallback) {
            String v = map.remove(name);
            return v == null ? fallback : v;
        }

        int integer(String name, int fallback, int min) {
            String v = map.remove(name);
            if (v == null) {
                return fallback;
            }
            try {
                int n = Integer.parseInt(v);
                if (n >= min) {
                    return n;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(name + ": " + v + " (expected: an integer >= " + min + ")");
        }
    }
}
