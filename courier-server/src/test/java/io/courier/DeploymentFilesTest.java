package io.courier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The files an operator installs: the systemd unit and the install script. */
class DeploymentFilesTest {
    private static final Path UNIT = Path.of("..", "config", "courier.service");

    @Test
    void unitFilePassesSystemdAnalyzeVerify() throws Exception {
        Path analyze = Path.of("/usr/bin/systemd-analyze");
        if (!Files.isExecutable(analyze)) {
            System.out.println("NOTICE: systemd-analyze not installed; the unit file was not verified");
        }
        assumeTrue(Files.isExecutable(analyze), "systemd-analyze not installed");
        Process p = new ProcessBuilder(
                        analyze.toString(),
                        "verify",
                        UNIT.toAbsolutePath().normalize().toString())
                .redirectErrorStream(true)
                .start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "systemd-analyze verify did not finish");
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        assertEquals("", output.trim(), "systemd-analyze verify printed warnings");
    }

    @Test
    void installScriptStagesJarConfigAndUnitWithSafeModes(@TempDir Path dir) throws Exception {
        Path jar = Files.writeString(dir.resolve("courier-server.jar"), "not really a jar");
        Path root = dir.resolve("root");
        ProcessBuilder pb =
                new ProcessBuilder("bash", Path.of("..", "scripts", "install").toString()).redirectErrorStream(true);
        pb.environment().put("DESTDIR", root.toString());
        pb.environment().put("COURIER_JAR", jar.toString());
        Process p = pb.start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "install did not finish");
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), output);
        assertEquals("not really a jar", Files.readString(root.resolve("opt/courier/courier-server.jar")));
        assertEquals(Files.readString(UNIT), Files.readString(root.resolve("etc/systemd/system/courier.service")));
        assertEquals(
                "rw-r-----",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("etc/courier/courier.env"))),
                "the env file may hold secrets");
        assertEquals(
                "rwx------",
                PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve("var/lib/courier"))));
        // A second run keeps the operator's edited env file.
        Files.writeString(root.resolve("etc/courier/courier.env"), "COURIER_PORT=9999\n");
        Process again = pb.start();
        assertTrue(again.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, again.exitValue());
        assertEquals("COURIER_PORT=9999\n", Files.readString(root.resolve("etc/courier/courier.env")));
    }

    @Test
    void unitRunsUnprivilegedHardenedAndNotifiesReadiness() throws IOException {
        String unit = Files.readString(UNIT);
        for (String line : new String[] {
            "Type=notify",
            "User=courier",
            "EnvironmentFile=-/etc/courier/courier.env",
            "Restart=on-failure",
            "NoNewPrivileges=true",
            "ProtectSystem=strict",
            "ReadWritePaths=/var/lib/courier",
            "PrivateTmp=true",
            "SuccessExitStatus=143"
        }) {
            assertTrue(unit.lines().anyMatch(line::equals), "missing: " + line);
        }
        long nofile = Long.parseLong(unit.lines()
                .filter(l -> l.startsWith("LimitNOFILE="))
                .findFirst()
                .orElseThrow()
                .substring(12));
        assertTrue(nofile >= 100_000, "a pub/sub server holds many sockets: LimitNOFILE=" + nofile);
        // The stop timeout must outlast the server's own graceful drain (courier.shutdown.timeout.seconds = 10).
        String stop = unit.lines()
                .filter(l -> l.startsWith("TimeoutStopSec="))
                .findFirst()
                .orElseThrow();
        assertTrue(Integer.parseInt(stop.replaceAll("\\D", "")) > 10, stop);
    }
}
