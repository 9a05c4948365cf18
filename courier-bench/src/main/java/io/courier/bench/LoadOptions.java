package io.courier.bench;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * The command line of {@link Load}, validated once. Every flag takes a value; a later flag wins, so
 * scripts can append overrides to a scenario's defaults.
 *
 * @param label          the scenario's name in the summary and the JSON (scripts pass theirs)
 * @param target         the server's protocol: {@code courier}, or a peer it is compared with,
 *                       {@code nats} (nats-server's WebSocket listener) or {@code socketio} (see {@link Target})
 * @param rate           publishes per second over all publishers; 0 = as fast as the bounds allow
 * @param window         publishes each publisher has sent but not yet seen acknowledged, at most
 * @param maxLagMessages deliveries outstanding (expected − received over all subscribers that read), at
 *                       most this many messages per subscriber; 0 turns the bound off. Acks only say the
 *                       server queued a publish, so without this bound "as fast as possible" measures
 *                       queue growth and slow-consumer disconnects instead of sustained fan-out.
 * @param sampleEvery    each subscriber records the latency of one delivery in this many
 * @param calibrateSeconds when > 0, first publish as fast as possible this long, then run at
 *                       {@code loadPercent} of the rate measured (the {@code latency} scenario)
 * @param probes         after the run, this many single publishes one at a time, each timed to its
 *                       last subscriber
 * @param slowPercent    this share of the subscribers stop reading {@code slowAfterSeconds} into the run
 * @param slowReceiveBufferBytes SO_RCVBUF of those subscribers, so the kernel holds little for them
 * @param perSourceAddress client sockets per loopback source address: beyond it, sockets bind
 *                       127.0.0.2, 127.0.0.3, ... (each source address has its own ephemeral ports)
 * @param serverPid      when > 0, the server's CPU time is read from /proc for the summary
 * @param bearer         the bearer token for the REST calls: minted from {@code --secret} for {@code audience},
 *                       or read from {@code --token-file} (then the audience is the token's)
 * @param hookRate       hook broadcasts per second through {@code POST /v1/hook} while the publishers run
 * @param subscriberUrls the servers the subscribers connect to, subscriber i to entry i mod n: by default
 *                       {@code url} alone; several for a cluster ({@code scripts/bench cluster}), while the
 *                       REST calls, the publishers and /metrics stay on {@code url}
 */
record LoadOptions(
        String scenario,
        String label,
        String target,
        URI url,
        List<URI> subscriberUrls,
        String bearer,
        String audience,
        int subscribers,
        int topics,
        int historySize,
        int publishers,
        int sizeBytes,
        int durationSeconds,
        int rate,
        int hookRate,
        int window,
        int maxLagMessages,
        int sampleEvery,
        int calibrateSeconds,
        int loadPercent,
        int probes,
        int slowPercent,
        int slowAfterSeconds,
        int slowReceiveBufferBytes,
        int maxHandshakes,
        int threads,
        int perSourceAddress,
        long serverPid,
        int drainTimeoutSeconds,
        int connectTimeoutSeconds,
        Optional<String> metricsToken,
        Optional<Path> json) {

    static final String USAGE = """
            usage: java -jar courier-bench.jar --url http://127.0.0.1:PORT (--secret S | --token-file F) [flags]
              --scenario fanout|connections   (fanout)
              --target courier|nats|socketio  (courier; nats: nats-server's WebSocket listener at --url's port,
                                               socketio: courier-bench/socketio/server.js; neither needs a secret)
              --label NAME                    (the scenario; names the run in the summary and JSON)
              --subscriber-urls URL,URL,...   (--url; subscriber i connects to URL number i mod n, e.g. the
                                               nodes of a cluster; publishers, REST and /metrics use --url)
              --audience NAME                 (random bench-<uuid>.test; with --token-file, the token's)
              --token-file FILE               (a bearer JWT for the server, instead of minting one from --secret)
              --subscribers N                 (1000)
              --topics T                      (1; subscriber i takes topic i mod T)
              --history-size N                (0; the topics are created with "history":{"size":N}, so every
                                               delivery carries an offset; 0 = topics without history)
              --publishers P                  (1; publisher p takes the topics t with t mod P = p)
              --size BYTES                    (100; size of each published message object)
              --duration SECONDS              (20; publishing time, or holding time for connections)
              --rate R                        (0 = as fast as the bounds allow; else publishes/s in total,
                                               open loop: latency counts from each publish's intended time)
              --hook-rate H                   (0; also broadcast H times a second through POST /v1/hook)
              --window W                      (64; un-acked publishes in flight per publisher)
              --max-lag M                     (1000; outstanding deliveries per subscriber, and at most 256 KiB
                                               of them; 0 = unbounded; only when publishing as fast as possible)
              --sample-every K                (100; latency sampled for 1 in K deliveries)
              --calibrate SECONDS             (0; first find the maximum rate this long, then run at
              --load-percent PCT              (50)  this percent of it; needs --rate 0)
              --probes N                      (0; single publishes after the run, timed to the last subscriber)
              --slow-percent PCT              (0; subscribers that stop reading...)
              --slow-after SECONDS            (duration/3; ...this far into the run)
              --slow-rcvbuf BYTES             (16384; their socket receive buffer)
              --handshakes H                  (200; WebSocket handshakes in flight)
              --threads N                     (available processors; subscriber event loops)
              --per-source N                  (ephemeral ports - 1000, at most 60000; sockets per source address)
              --server-pid PID                (0; read the server's CPU time from /proc)
              --metrics-token TOKEN           (none; bearer token for the server's /metrics)
              --drain-timeout SECONDS         (30; wait for deliveries after the last publish)
              --connect-timeout SECONDS       (300; to open all connections)
              --json FILE                     (write the summary as JSON, and the plots next to it as .svg)
            --secret defaults to $COURIER_JWT_SECRET (the server's HS256 secret).""";

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
        String label = f.string("--label", scenario);
        String target = f.string("--target", "courier");
        if (!target.equals("courier") && !target.equals("nats") && !target.equals("socketio")) {
            throw new IllegalArgumentException("--target: " + target + " (expected: courier, nats or socketio)");
        }
        URI url = httpUrl("--url", f.required("--url"));
        List<URI> subscriberUrls = new ArrayList<>();
        String subscriberList = f.string("--subscriber-urls", "");
        if (subscriberList.isEmpty()) {
            subscriberUrls.add(url);
        } else {
            for (String u : subscriberList.split(",", -1)) {
                subscriberUrls.add(httpUrl("--subscriber-urls", u));
            }
        }
        String secret = f.string("--secret", env.getOrDefault("COURIER_JWT_SECRET", ""));
        String tokenFile = f.string("--token-file", "");
        String audience = f.string("--audience", "bench-" + UUID.randomUUID() + ".test");
        String bearer;
        if (!target.equals("courier")) {
            bearer = ""; // a peer needs no token: its sockets are open to anyone on loopback
        } else if (!tokenFile.isEmpty()) {
            bearer = readToken(Path.of(tokenFile));
            audience = CourierApi.audienceOf(bearer)
                    .orElseThrow(() -> new IllegalArgumentException(
                            "--token-file: " + tokenFile + " (expected: a JWT with one aud claim)"));
        } else if (secret.length() < 32) {
            throw new IllegalArgumentException("--secret: " + secret.length()
                    + " characters (expected: the server's HS256 secret, at least 32, or --token-file)");
        } else {
            bearer = CourierApi.mint(secret, audience);
        }
        int subscribers = f.integer("--subscribers", 1000, 0);
        int topics = f.integer("--topics", 1, 1);
        int historySize = f.integer("--history-size", 0, 0);
        int publishers = f.integer("--publishers", 1, 1);
        int size = f.integer("--size", 100, Publication.MIN_BYTES);
        int duration = f.integer("--duration", 20, 1);
        int rate = f.integer("--rate", 0, 0);
        int hookRate = f.integer("--hook-rate", 0, 0);
        int window = f.integer("--window", 64, 1);
        int maxLag = f.integer("--max-lag", 1000, 0);
        int sampleEvery = f.integer("--sample-every", 100, 1);
        int calibrate = f.integer("--calibrate", 0, 0);
        int loadPercent = f.integer("--load-percent", 50, 1);
        int probes = f.integer("--probes", 0, 0);
        int slowPercent = f.integer("--slow-percent", 0, 0);
        int slowAfter = f.integer("--slow-after", Math.max(1, duration / 3), 0);
        int slowRcvbuf = f.integer("--slow-rcvbuf", 16384, 1024);
        int handshakes = f.integer("--handshakes", 200, 1);
        int threads = f.integer("--threads", Runtime.getRuntime().availableProcessors(), 1);
        int perSource = f.integer("--per-source", defaultPerSourceAddress(), 1);
        int serverPid = f.integer("--server-pid", 0, 0);
        int drainTimeout = f.integer("--drain-timeout", 30, 1);
        int connectTimeout = f.integer("--connect-timeout", 300, 1);
        Optional<String> metricsToken =
                Optional.ofNullable(flags.remove("--metrics-token")).filter(s -> !s.isEmpty());
        Optional<Path> json = Optional.ofNullable(flags.remove("--json")).map(Path::of);
        if (!flags.isEmpty()) {
            throw new IllegalArgumentException(
                    "unknown flag " + flags.keySet().iterator().next());
        }
        if (historySize > 0 && !target.equals("courier")) {
            throw new IllegalArgumentException("--history-size: " + historySize + " with --target " + target
                    + " (expected: 0; topic history is Courier's)");
        }
        if (hookRate > 0 && !target.equals("courier")) {
            throw new IllegalArgumentException(
                    "--hook-rate: " + hookRate + " with --target " + target + " (expected: 0; hooks are Courier's)");
        }
        if (publishers > topics) {
            throw new IllegalArgumentException(
                    "--publishers: " + publishers + " (expected: at most --topics, " + topics + ")");
        }
        if (calibrate > 0 && rate > 0) {
            throw new IllegalArgumentException("--calibrate: " + calibrate + " with --rate " + rate
                    + " (expected: --rate 0, the calibration sets it)");
        }
        if (slowPercent > 100) {
            throw new IllegalArgumentException("--slow-percent: " + slowPercent + " (expected: 0-100)");
        }
        if (slowPercent > 0 && slowAfter >= duration) {
            throw new IllegalArgumentException(
                    "--slow-after: " + slowAfter + " (expected: less than --duration " + duration + ")");
        }
        return new LoadOptions(
                scenario,
                label,
                target,
                url,
                List.copyOf(subscriberUrls),
                bearer,
                audience,
                subscribers,
                topics,
                historySize,
                publishers,
                size,
                duration,
                rate,
                hookRate,
                window,
                maxLag,
                sampleEvery,
                calibrate,
                loadPercent,
                probes,
                slowPercent,
                slowAfter,
                slowRcvbuf,
                handshakes,
                threads,
                perSource,
                serverPid,
                drainTimeout,
                connectTimeout,
                metricsToken,
                json);
    }

    private static URI httpUrl(String flag, String value) {
        URI url;
        try {
            url = URI.create(value);
        } catch (IllegalArgumentException e) {
            url = null;
        }
        if (url == null || !"http".equals(url.getScheme()) || url.getHost() == null || url.getPort() < 0) {
            throw new IllegalArgumentException(flag + ": " + value + " (expected: http://HOST:PORT)");
        }
        return url;
    }

    /** Which of {@link #subscriberUrls} subscriber {@code index} connects to: each in turn. */
    int subscriberServer(int index) {
        return index % subscriberUrls.size();
    }

    private static String readToken(Path file) {
        try {
            return Files.readString(file).trim();
        } catch (IOException e) {
            throw new IllegalArgumentException("--token-file: " + file + " (" + e.getMessage() + ")");
        }
    }

    /** Whether subscriber {@code index} is one of the {@code --slow-percent} that stop reading: spread evenly. */
    boolean isSlow(int index) {
        if (slowPercent == 0) {
            return false;
        }
        return (long) index * slowPercent / 100 != (long) (index + 1) * slowPercent / 100;
    }

    /**
     * Linux hands out ephemeral ports from {@code ip_local_port_range} per (source, destination) pair,
     * so one source address reaches one server port about 28,000 times with the default range. Leave
     * some for everything else on the machine.
     */
    static int defaultPerSourceAddress() {
        try {
            String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))
                    .trim()
                    .split("\\s+");
            int ports = Integer.parseInt(range[1]) - Integer.parseInt(range[0]) + 1;
            return Math.max(1000, Math.min(60_000, ports - 1000));
        } catch (IOException | RuntimeException e) {
            return 25_000;
        }
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
