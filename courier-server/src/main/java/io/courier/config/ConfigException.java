package io.courier.config;

/** A configuration mistake. Startup prints its one-line message and exits with code 2. */
public final class ConfigException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public ConfigException(String key, String problem) {
        super(key + ": " + problem, null, false, false);
    }
}
