package io.courier.bench;

import com.sun.management.OperatingSystemMXBean;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * CPU time of this client, of the server and of the whole machine, and the server's write system
 * calls, so a run can tell whether the client, the server or a neighbour had the cores, and how well
 * the server batched its writes. Linux only (reads /proc); elsewhere those figures are -1. Any thread.
 */
final class CpuSampler {
    /** USER_HZ: /proc reports times in ticks of 1/100 s on every Linux architecture we run on. */
    private static final long NANOS_PER_TICK = 10_000_000L;

    /** One reading; differences of two give what each party used in between. */
    record Snapshot(long wallNanos, Times client, Times server, Machine machine, long serverWrites) {
        Usage since(Snapshot start) {
            double wall = (wallNanos - start.wallNanos) / 1e9;
            long writes = serverWrites < 0 || start.serverWrites < 0 ? -1 : serverWrites - start.serverWrites;
            double[] m = machine == null || start.machine == null
                    ? new double[] {-1, -1, -1}
                    : new double[] {
                        (machine.busyNanos - start.machine.busyNanos) / 1e9,
                        (machine.irqNanos - start.machine.irqNanos) / 1e9,
                        (machine.stealNanos - start.machine.stealNanos) / 1e9
                    };
            return new Usage(
                    wall,
                    client.cpuSince(start.client),
                    client.systemSince(start.client),
                    server.cpuSince(start.server),
                    server.systemSince(start.server),
                    m[0],
                    m[1],
                    m[2],
                    writes);
        }
    }

    /** A process's user and system (kernel) CPU time; -1 when unknown. */
    record Times(long userNanos, long systemNanos) {
        static final Times UNKNOWN = new Times(-1, -1);

        double cpuSince(Times start) {
            return userNanos < 0 || start.userNanos < 0
                    ? -1
                    : (userNanos + systemNanos - start.userNanos - start.systemNanos) / 1e9;
        }

        double systemSince(Times start) {
            return systemNanos < 0 || start.systemNanos < 0 ? -1 : (systemNanos - start.systemNanos) / 1e9;
        }
    }

    /** Times summed over all CPUs from /proc/stat; busy includes irq and softirq, but not idle, iowait or steal. */
    record Machine(long busyNanos, long irqNanos, long stealNanos) {}

    /**
     * What was used over {@code wallSeconds}; -1 when unknown. {@code irqCpuSeconds} is interrupt and
     * softirq time, where the kernel does much of the loopback TCP work without charging it to a process;
     * {@code stealCpuSeconds} is time the hypervisor gave to other machines. {@code ...SystemSeconds} is
     * the part of a process's CPU spent in the kernel (system calls, loopback TCP). The write count is
     * {@code syscw} from /proc/PID/io: write and writev calls that go through the VFS. Socket sends
     * of one buffer do not count there (a run at 2 publishes/s to 10,000 subscribers showed 120 for
     * 400,000 deliveries), so this counts the server's multi-frame flushes, not every system call.
     */
    record Usage(
            double wallSeconds,
            double clientCpuSeconds,
            double clientSystemSeconds,
            double serverCpuSeconds,
            double serverSystemSeconds,
            double machineCpuSeconds,
            double irqCpuSeconds,
            double stealCpuSeconds,
            long serverWriteSyscalls) {
        double cores(double cpuSeconds) {
            return cpuSeconds < 0 || wallSeconds <= 0 ? -1 : cpuSeconds / wallSeconds;
        }

        /** Busy CPU that was neither client, server nor interrupts: other processes on a shared machine. */
        double otherCpuSeconds() {
            return serverCpuSeconds < 0 || machineCpuSeconds < 0
                    ? -1
                    : Math.max(0, machineCpuSeconds - clientCpuSeconds - serverCpuSeconds - irqCpuSeconds);
        }
    }

    private final long serverPid;

    CpuSampler(long serverPid) {
        this.serverPid = serverPid;
    }

    Snapshot take() {
        Times client = times("self");
        if (client == Times.UNKNOWN) {
            long cpu = ((OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
            client = new Times(cpu, 0);
        }
        boolean server = serverPid > 0;
        String pid = Long.toString(serverPid);
        return new Snapshot(
                System.nanoTime(),
                client,
                server ? times(pid) : Times.UNKNOWN,
                machine(),
                server ? ioCount(pid, "syscw:") : -1);
    }

    /** utime and stime, fields 14 and 15 of /proc/PID/stat (counted after the parenthesised command name). */
    private static Times times(String pid) {
        try {
            String stat = Files.readString(Path.of("/proc", pid, "stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            return new Times(Long.parseLong(f[11]) * NANOS_PER_TICK, Long.parseLong(f[12]) * NANOS_PER_TICK);
        } catch (IOException | RuntimeException e) {
            return Times.UNKNOWN;
        }
    }

    /** The resident set of the server, VmRSS of /proc/PID/status in KiB; -1 when unknown. */
    long serverRssKib() {
        if (serverPid <= 0) {
            return -1;
        }
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(serverPid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return -1;
    }

    /** One counter of /proc/PID/io, e.g. {@code syscw: 1234}. */
    private static long ioCount(String pid, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", pid, "io"))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.substring(field.length()).trim());
                }
            }
        } catch (IOException | RuntimeException e) {
            // unknown
        }
        return -1;
    }

    /** The first line of /proc/stat: {@code cpu user nice system idle iowait irq softirq steal ...}. */
    private static Machine machine() {
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            long user = Long.parseLong(f[1]) + Long.parseLong(f[2]);
            long system = Long.parseLong(f[3]);
            long irq = Long.parseLong(f[6]) + Long.parseLong(f[7]);
            long steal = Long.parseLong(f[8]);
            return new Machine((user + system + irq) * NANOS_PER_TICK, irq * NANOS_PER_TICK, steal * NANOS_PER_TICK);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }
}
