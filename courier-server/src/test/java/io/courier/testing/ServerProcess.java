package io.courier.testing;

import io.courier.Courier;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The real server as operators run it: {@code java -cp ... io.courier.Courier} in its own JVM,
 * configured by environment variables only, logging to a file. Lets a test kill it hard
 * ({@code SIGKILL}) and start another on the same data. The test class path is used instead of
 * the shaded jar (minus {@code target/test-classes}, as {@code CliIT} does) so the code under test
 * runs, built or not.
 */
public final class ServerProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("courier listening on http://[^:\\s]+:(\\d+)");
    /** A generation's (or G1's whole heap's) line in jcmd GC.heap_info: "... total 262144K, used 9472K [...". */
    private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");

    public static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path log;
    private final int port;

    private ServerProcess(Process process, Path log, int port) {
        this.process = process;
        this.log = log;
        this.port = port;
    }

    /**
     * Starts a server with {@code env} (COURIER_* variables; COURIER_PORT=0 and COURIER_HOST=127.0.0.1
     * are added unless given) and waits until it logs its listening address.
     *
     * @param logFile where stderr (the log) goes; stdout goes next to it
     */
    public static ServerProcess start(Map<String, String> env, Path logFile) {
        return start(env, logFile, List.of());
    }

    /**
     * As {@link #start(Map, Path)}, with extra JVM options (e.g. {@code -XX:MaxDirectMemorySize=24m}).
     * The JVM opens {@code java.nio} as the jar's manifest does, so direct memory is accounted the
     * way it is in production.
     */
    public static ServerProcess start(Map<String, String> env, Path logFile, List<String> jvmOptions) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-XX:TieredStopAtLevel=1",
                "--add-opens",
                "java.base/java.nio=ALL-UNNAMED"));
        command.addAll(jvmOptions);
        command.addAll(List.of("-cp", classPath(), Courier.class.getName()));
        ProcessBuilder builder = new ProcessBuilder(command)
                .redirectOutput(
                        logFile.resolveSibling(logFile.getFileName() + ".out").toFile())
                .redirectError(logFile.toFile());
        // Only what the test sets: nothing inherited may configure Courier or the JVM.
        builder.environment()
                .keySet()
                .removeIf(name -> name.startsWith("COURIER_")
                        || name.equals("JAVA_TOOL_OPTIONS")
                        || name.equals("_JAVA_OPTIONS")
                        || name.equals("JDK_JAVA_OPTIONS"));
        builder.environment().put("COURIER_PORT", "0");
        builder.environment().put("COURIER_HOST", "127.0.0.1");
        builder.environment().putAll(env);
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + command, e);
        }
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            Matcher m = LISTENING.matcher(read(logFile));
            if (m.find()) {
                return new ServerProcess(process, logFile, Integer.parseInt(m.group(1)));
            }
            if (!process.isAlive()) {
                throw new AssertionError(
                        "server exited with " + process.exitValue() + " before listening:\n" + read(logFile));
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new AssertionError("server not listening within " + START_TIMEOUT + ":\n" + read(logFile));
            }
            pause(50);
        }
    }

    public int port() {
        return port;
    }

    public long pid() {
        return process.pid();
    }

    public String log() {
        return read(log);
    }

    /**
     * The live heap in bytes (KiB resolution): {@code jcmd PID GC.run}, a full collection, then the
     * used figure of {@code GC.heap_info}, summed over the generations it lists (G1 lists one heap).
     * The measure {@code scripts/bench load connections} uses, so the figures compare.
     */
    public long heapUsedAfterGc() {
        jcmd("GC.run");
        String info = jcmd("GC.heap_info");
        Matcher m = HEAP_USED.matcher(info);
        long usedKib = 0;
        boolean found = false;
        while (m.find()) {
            usedKib += Long.parseLong(m.group(1));
            found = true;
        }
        if (!found) {
            throw new AssertionError("no heap figure in jcmd GC.heap_info:\n" + info);
        }
        return usedKib * 1024;
    }

    private String jcmd(String command) {
        Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
        Path output = log.resolveSibling(log.getFileName() + ".jcmd");
        try {
            // Output to a file, not a pipe, so that a jcmd that hangs costs the timeout, not the test run.
            Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(pid()), command)
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            boolean exited = p.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            if (!exited) {
                p.destroyForcibly();
            }
            String out = read(output);
            if (!exited || p.exitValue() != 0) {
                throw new AssertionError("jcmd " + pid() + " " + command
                        + (exited ? " failed" : " did not finish within " + START_TIMEOUT) + ":\n" + out);
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError("cannot run " + jcmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** {@code kill -9}: no shutdown hook, no flush, no graceful close. Returns once the process is gone. */
    public void kill() {
        process.destroyForcibly();
        awaitExit();
    }

    /** SIGTERM and wait for the graceful shutdown. */
    public void stop() {
        process.destroy();
        awaitExit();
    }

    public int exitValue() {
        return process.exitValue();
    }

    private void awaitExit() {
        try {
            if (!process.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("server pid " + process.pid() + " did not exit within " + START_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(START_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * The runtime class path without the test classes, so the process sees what the shaded jar holds
     * (the shipped logback.xml, not logback-test.xml). Surefire may hide the real class path behind a
     * manifest-only jar; it publishes the real one in surefire.test.class.path.
     */
    static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        String full = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
        return Arrays.stream(full.split(File.pathSeparator))
                .filter(entry -> !Path.of(entry).endsWith(Path.of("target", "test-classes")))
                .collect(Collectors.joining(File.pathSeparator));
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis); // pacing between polls of the log, not synchronisation
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public String toString() {
        return "courier pid " + process.pid() + " on port " + port;
    }
}
