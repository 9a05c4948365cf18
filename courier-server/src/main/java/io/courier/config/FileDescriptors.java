package io.courier.config;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;

/** The process's file-descriptor limit, which bounds how many connections can be open at all. */
final class FileDescriptors {
    /**
     * Descriptors kept back from connections: the database pool, log and data files, the JDK's own,
     * and the NATS connection of a cluster node.
     */
    static final int RESERVE = 200;
    /** Where the limit cannot be read (not a Unix JVM), what systemd's unit allows less the reserve. */
    private static final int UNKNOWN_LIMIT_CONNECTIONS = 1_048_576 - RESERVE;

    private FileDescriptors() {}

    /** The soft limit ({@code ulimit -n}) less {@link #RESERVE}, and at least 1. */
    static int defaultConnectionLimit() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix) {
            long limit = unix.getMaxFileDescriptorCount();
            return (int) Math.max(1, Math.min(Integer.MAX_VALUE, limit - RESERVE));
        }
        return UNKNOWN_LIMIT_CONNECTIONS;
    }
}
