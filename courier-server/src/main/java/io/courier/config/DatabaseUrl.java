package io.courier.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;

/**
 * Turns the database URL forms Courier accepts into a JDBC URL plus credentials. Besides JDBC URLs
 * it accepts {@code postgres://user:password@host:5432/db?sslmode=disable}, the form the original
 * Courier (and most PaaS) use, so existing deployments keep their {@code COURIER_DATABASE_URL}.
 */
record DatabaseUrl(String jdbcUrl, String user, String password) {

    static DatabaseUrl parse(String key, String url) {
        if (url.startsWith("jdbc:postgresql:") || url.startsWith("jdbc:h2:")) {
            return new DatabaseUrl(url, "", "");
        }
        if (url.startsWith("postgres://") || url.startsWith("postgresql://")) {
            return fromPostgresUri(key, url);
        }
        throw new ConfigException(
                key,
                "unsupported database URL (expected: jdbc:postgresql://..., jdbc:h2:... or postgres://user:password@host:port/db)");
    }

    private static DatabaseUrl fromPostgresUri(String key, String url) {
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new ConfigException(key, "malformed database URL (" + e.getReason() + ")");
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new ConfigException(key, "malformed database URL (no host)");
        }
        String db = uri.getPath() == null ? "" : uri.getPath().replaceFirst("^/", "");
        if (db.isEmpty()) {
            throw new ConfigException(key, "malformed database URL (no database name)");
        }
        String user = "";
        String password = "";
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? "" : decode(userInfo.substring(colon + 1));
        }
        int port = uri.getPort() < 0 ? 5432 : uri.getPort();
        String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
        return new DatabaseUrl("jdbc:postgresql://" + uri.getHost() + ":" + port + "/" + db + query, user, password);
    }

    /** Percent-decoding only: in a URI's user info a '+' is a literal plus, not a space. */
    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /**
     * The URL with the value of every {@code ...password=} parameter masked (PostgreSQL's
     * {@code password} and {@code sslpassword}, H2's {@code ;PASSWORD=}), for the configuration line.
     */
    static String redact(String jdbcUrl) {
        return jdbcUrl.replaceAll("(?i)(password=)[^&;]*", "$1****");
    }
}
