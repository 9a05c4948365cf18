package io.courier;

import io.courier.auth.JwtKeys;
import io.courier.auth.TokenIssuer;
import io.courier.config.Config;
import io.courier.config.ConfigException;
import io.courier.config.ConfigLoader;
import io.courier.text.Names;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point.
 * <pre>
 *   java -jar courier-server.jar [--config PATH]                       run the server
 *   java -jar courier-server.jar token --aud NAME [--sub ID] [--ttl 1h] [--config PATH]
 * </pre>
 * Exit codes: 2 for a configuration or usage mistake (one line on stderr), 1 for anything else
 * unexpected, 0 when {@code token} succeeds. Stopped by SIGTERM the JVM exits with 143 (128 + 15)
 * after the graceful shutdown; the systemd unit counts that as success.
 * Logs go to stderr, so {@code token}'s stdout is the token alone.
 */
public final class Courier {
    private static final Pattern DURATION = Pattern.compile("(\\d+)([smhd]?)");

    private Courier() {}

    public static void main(String[] args) {
        DirectMemory.prepare();
        try {
            if (args.length > 0 && args[0].equals("token")) {
                System.out.println(token(flags(args, 1)));
                return;
            }
            serve(flags(args, 0));
        } catch (ConfigException e) {
            System.err.println("courier: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void serve(Map<String, String> flags) {
        requireOnly(flags, "--config");
        Config config = load(flags);
        Logger log = LoggerFactory.getLogger(Courier.class);
        CourierServer server = CourierServer.start(config);
        String notifySocket = System.getenv("NOTIFY_SOCKET");
        SystemdNotifier.notify(notifySocket, "READY=1\nSTATUS=listening on port " + server.port());
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            log.info(
                                    "shutting down (timeout {} s)",
                                    config.shutdownTimeout().toSeconds());
                            SystemdNotifier.notify(notifySocket, "STOPPING=1");
                            server.close();
                            stopped.countDown();
                        },
                        "courier-shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String token(Map<String, String> flags) {
        requireOnly(flags, "--config", "--aud", "--sub", "--ttl");
        String audience = flags.get("--aud");
        if (audience == null || audience.isBlank()) {
            throw new ConfigException("--aud", "required (usage: token --aud NAME [--sub ID] [--ttl 1h])");
        }
        // The server would refuse such a token with 401; say so here, in one line.
        for (String flag : new String[] {"--aud", "--sub"}) {
            if (flags.containsKey(flag) && !Names.isValid(flags.get(flag))) {
                throw new ConfigException(flag, "not a valid name: " + Names.problem(flags.get(flag)));
            }
        }
        Duration ttl = duration("--ttl", flags.getOrDefault("--ttl", "1h"));
        if (ttl.isZero()) {
            throw new ConfigException("--ttl", "0 (expected: a positive duration, e.g. 1h)");
        }
        Config config = load(flags);
        JwtKeys keys = JwtKeys.load(config.jwt(), config.dataDir());
        return new TokenIssuer(keys).issue(audience, Optional.ofNullable(flags.get("--sub")), ttl);
    }

    private static Config load(Map<String, String> flags) {
        return ConfigLoader.load(Optional.ofNullable(flags.get("--config")).map(Path::of), System.getenv(), Map.of());
    }

    private static Map<String, String> flags(String[] args, int from) {
        Map<String, String> flags = new HashMap<>();
        for (int i = from; i < args.length; i += 2) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new ConfigException(args[i], "expected --flag VALUE pairs");
            }
            flags.put(args[i], args[i + 1]);
        }
        return flags;
    }

    private static void requireOnly(Map<String, String> flags, String... allowed) {
        for (String flag : flags.keySet()) {
            if (!Arrays.asList(allowed).contains(flag)) {
                throw new ConfigException(flag, "unknown flag (expected: " + String.join(", ", allowed) + ")");
            }
        }
    }

    /** {@code 90} or {@code 90s}, {@code 15m}, {@code 1h}, {@code 7d}. */
    static Duration duration(String key, String raw) {
        Matcher m = DURATION.matcher(raw.trim());
        if (!m.matches()) {
            throw new ConfigException(key, "'" + raw + "' (expected: a number with s, m, h or d, e.g. 1h)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            case "d" -> Duration.ofDays(n);
            default -> Duration.ofSeconds(n);
        };
    }
}
