package io.courier.testing;

import io.courier.config.Config;
import io.courier.config.ConfigLoader;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/** The configuration every test server runs with: loopback, port 0, its own data directory, HS256 with {@link #SECRET}. */
public final class TestConfig {
    public static final String SECRET = "test-secret-for-courier-integration-tests-0123456789";

    private TestConfig() {}

    /** The test defaults for {@code dataDir}, then {@code extra} on top. */
    public static Map<String, String> overrides(Path dataDir, Map<String, String> extra) {
        Map<String, String> overrides = new HashMap<>();
        overrides.put("courier.host", "127.0.0.1");
        overrides.put("courier.port", "0");
        overrides.put("courier.data.dir", dataDir.toString());
        overrides.put("courier.jwt.secret", SECRET);
        overrides.put("courier.shutdown.timeout.seconds", "2");
        overrides.putAll(extra);
        return overrides;
    }

    /** A validated config as the server would load it, for handler tests without a server. */
    public static Config load(Path dataDir, Map<String, String> extra) {
        return ConfigLoader.load(Optional.empty(), Map.of(), overrides(dataDir, extra));
    }
}
