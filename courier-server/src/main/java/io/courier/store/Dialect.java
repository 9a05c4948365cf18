package io.courier.store;

import java.util.Properties;
import org.postgresql.Driver;

/**
 * The two databases Courier supports. The SQL is the same for both; only migration locking and the
 * driver's network timeouts differ.
 */
enum Dialect {
    H2,
    POSTGRESQL;

    static Dialect of(String jdbcUrl) {
        if (jdbcUrl.startsWith("jdbc:h2:")) {
            return H2;
        }
        if (jdbcUrl.startsWith("jdbc:postgresql:")) {
            return POSTGRESQL;
        }
        throw new IllegalArgumentException(
                "jdbcUrl: " + jdbcUrl.replaceFirst("[?;].*", "") + " (expected: jdbc:h2:... or jdbc:postgresql://...)");
    }

    /**
     * Where the data lives, for the startup log: {@code H2 file /data/courier.mv.db} or
     * {@code PostgreSQL db.internal:5432/courier}. Built from the parts, so no parameter (and no
     * password) of the URL can leak into it.
     */
    String describe(String jdbcUrl) {
        return this == H2 ? describeH2(jdbcUrl) : describePostgres(jdbcUrl);
    }

    private static String describeH2(String jdbcUrl) {
        String target = jdbcUrl.substring("jdbc:h2:".length()).replaceFirst(";.*", "");
        if (target.startsWith("file:")) {
            // H2 2.x keeps a file database in <name>.mv.db
            return "H2 file " + target.substring("file:".length()) + ".mv.db";
        }
        if (target.startsWith("mem:")) {
            return "H2 in-memory " + target.substring("mem:".length());
        }
        return "H2 " + target;
    }

    private static String describePostgres(String jdbcUrl) {
        Properties parts = Driver.parseURL(jdbcUrl, null);
        if (parts == null) {
            return "PostgreSQL (unparseable URL)";
        }
        // Several hosts for failover come as parallel lists: "a,b" and "5432,5433".
        String[] hosts = parts.getProperty("PGHOST", "").split(",");
        String[] ports = parts.getProperty("PGPORT", "").split(",");
        StringBuilder out = new StringBuilder("PostgreSQL ");
        for (int i = 0; i < hosts.length; i++) {
            out.append(i == 0 ? "" : ",").append(hosts[i]).append(':').append(i < ports.length ? ports[i] : "5432");
        }
        return out.append('/').append(parts.getProperty("PGDBNAME", "")).toString();
    }
}
