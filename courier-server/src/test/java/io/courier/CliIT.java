package io.courier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.courier.testing.TestServer;
import java.io.File;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code courier} command line as operators run it: a separate JVM, configured by environment
 * variables only. The test class path is used instead of the shaded jar so the test always runs the
 * code under test, built or not.
 */
class CliIT {
    private static final Pattern JWT = Pattern.compile("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+");
    private static final Duration PROCESS_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    Path dataDir;

    @TempDir
    Path outputDir;

    /** One finished run of the command. */
    record Run(int exitCode, String stdout, String stderr) {
        List<String> stderrLines() {
            return stderr.lines().filter(l -> !l.isBlank()).toList();
        }

        /** The one line on stdout that is a JWT. */
        String token() {
            List<String> tokens = stdout.lines()
                    .map(String::strip)
                    .filter(l -> JWT.matcher(l).matches())
                    .toList();
            assertEquals(1, tokens.size(), "exactly one token on stdout: " + stdout);
            return tokens.get(0);
        }

        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr;
        }
    }

    // ---------------------------------------------------------------- token

    @Test
    void tokenCommandPrintsAJwtWithTheRequestedClaims() throws Exception {
        Instant before = Instant.now();

        Run run = courier(
                Map.of("COURIER_DATA_DIR", dataDir.toString()),
                "token",
                "--aud",
                "a.example",
                "--sub",
                "u1",
                "--ttl",
                "1h");

        assertEquals(0, run.exitCode(), run::toString);
        SignedJWT jwt = SignedJWT.parse(run.token());
        assertEquals(JWSAlgorithm.HS256, jwt.getHeader().getAlgorithm());
        JWTClaimsSet claims = jwt.getJWTClaimsSet();
        assertEquals(List.of("a.example"), claims.getAudience());
        assertEquals("u1", claims.getSubject());
        Instant exp = claims.getExpirationTime().toInstant();
        Instant expected = before.plus(Duration.ofHours(1));
        assertTrue(
                !exp.isBefore(expected.minusSeconds(5)) && !exp.isAfter(expected.plusSeconds(60)),
                "exp " + exp + " (expected: about " + expected + ")");
        assertTrue(verifies(jwt, secretIn(dataDir)), "token verifies with the secret in the data directory");
    }

    @Test
    void tokenCommandPrintsNothingButTheTokenOnStdout() {
        // So that TOKEN=$(courier token --aud x) works; logs belong on stderr. The first run also
        // generates the secret, the moment a log line is most likely.
        Run run = courier(Map.of("COURIER_DATA_DIR", dataDir.toString()), "token", "--aud", "a.example");

        assertEquals(0, run.exitCode(), run::toString);
        assertEquals(List.of(run.token()), run.stdout().lines().toList(), run::toString);
    }

    @Test
    void tokenCommandCreatesTheSecretOnceAndReusesIt() throws Exception {
        Map<String, String> env = Map.of("COURIER_DATA_DIR", dataDir.toString());

        Run first = courier(env, "token", "--aud", "a.example", "--sub", "u1");
        String secret = secretIn(dataDir);
        Run second = courier(env, "token", "--aud", "b.example");

        assertEquals(0, first.exitCode(), first::toString);
        assertEquals(0, second.exitCode(), second::toString);
        assertEquals(secret, secretIn(dataDir), "the second run keeps the secret");
        assertTrue(secret.length() >= 32, "secret of " + secret.length() + " characters");
        assertTrue(verifies(SignedJWT.parse(first.token()), secret));
        assertTrue(verifies(SignedJWT.parse(second.token()), secret));
        assertEquals(
                List.of("b.example"),
                SignedJWT.parse(second.token()).getJWTClaimsSet().getAudience());
        Path file = dataDir.resolve("jwt-secret");
        if (file.getFileSystem().supportedFileAttributeViews().contains("posix")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        }
    }

    @Test
    void tokenFromTheCommandIsAcceptedByAServerSharingTheDataDirectory() {
        Run run =
                courier(Map.of("COURIER_DATA_DIR", dataDir.toString()), "token", "--aud", TestServer.uniqueAudience());
        assertEquals(0, run.exitCode(), run::toString);

        // An empty secret makes the server use the generated one, as a real deployment would.
        try (TestServer server =
                TestServer.start(Map.of("courier.data.dir", dataDir.toString(), "courier.jwt.secret", ""))) {
            HttpResponse<String> created = server.post("/v1/audience", run.token(), "");

            assertEquals(201, created.statusCode(), created.body());
        }
    }

    @Test
    void tokenCommandUsesTheConfiguredSecret() throws Exception {
        String secret = "configured-secret-for-the-cli-test-0123456789";

        Run run = courier(
                Map.of("COURIER_DATA_DIR", dataDir.toString(), "COURIER_JWT_SECRET", secret),
                "token",
                "--aud",
                "a.example");

        assertEquals(0, run.exitCode(), run::toString);
        assertTrue(verifies(SignedJWT.parse(run.token()), secret));
        assertFalse(Files.exists(dataDir.resolve("jwt-secret")), "no secret is generated when one is configured");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "no --aud         | --aud | token",
                "empty --aud      | --aud | token --aud ''",
                "--aud without value | --aud | token --aud",
                "bad --ttl        | --ttl | token --aud a.example --ttl soon",
                "negative --ttl   | --ttl | token --aud a.example --ttl -1h",
                "zero --ttl       | --ttl | token --aud a.example --ttl 0",
                "unknown flag     | --bogus | token --aud a.example --bogus 1",
            })
    void tokenUsageMistakeExitsWithCode2AndOneLine(String why, String flag, String args) {
        Run run = courier(Map.of("COURIER_DATA_DIR", dataDir.toString()), split(args));

        assertOneLineConfigError(run, flag);
    }

    @Test
    void tokenCommandWithAPublicKeyExplainsItCannotSign() throws Exception {
        Path pem = outputDir.resolve("public.pem");
        KeyPairGenerator rsa = KeyPairGenerator.getInstance("RSA");
        rsa.initialize(2048);
        Files.writeString(
                pem,
                "-----BEGIN PUBLIC KEY-----\n"
                        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                                .encodeToString(
                                        rsa.generateKeyPair().getPublic().getEncoded())
                        + "\n-----END PUBLIC KEY-----\n");

        Run run = courier(
                Map.of("COURIER_DATA_DIR", dataDir.toString(), "COURIER_JWT_KEY_FILE", pem.toString()),
                "token",
                "--aud",
                "a.example");

        assertOneLineConfigError(run, "courier.jwt.key.file");
    }

    // ---------------------------------------------------------------- startup

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "COURIER_PORT,          70000,        courier.port",
        "COURIER_PORT,          abc,          courier.port",
        "COURIER_JWT_ALGORITHM, XYZ,          courier.jwt.algorithm",
        "COURIER_DATABASE_URL,  mysql://x,    courier.database.url",
        "COURIER_JWT_KEY_FILE,  /nonexistent, courier.jwt.key.file",
        "COURIER_WS_URL,        http://x/ws,  courier.ws.url",
    })
    void badConfigurationStopsStartupWithCode2AndOneLineNamingTheKey(String variable, String value, String key) {
        Map<String, String> env = new HashMap<>();
        env.put("COURIER_DATA_DIR", dataDir.toString());
        env.put("COURIER_PORT", "0"); // should the value be accepted after all, never take a real port
        env.put("COURIER_HOST", "127.0.0.1");
        env.put(variable, value);

        Run run = courier(env);

        assertOneLineConfigError(run, key);
        assertEquals("", run.stdout(), "nothing starts, so nothing is logged");
    }

    @Test
    void badConfigurationAlsoStopsTheTokenCommand() {
        Run run = courier(
                Map.of("COURIER_DATA_DIR", dataDir.toString(), "COURIER_JWT_ALGORITHM", "XYZ"),
                "token",
                "--aud",
                "a.example");

        assertOneLineConfigError(run, "courier.jwt.algorithm");
    }

    @Test
    void unknownServerFlagExitsWithCode2() {
        Run run = courier(Map.of("COURIER_DATA_DIR", dataDir.toString(), "COURIER_PORT", "0"), "--port", "9000");

        assertOneLineConfigError(run, "--port");
    }

    @Test
    void missingConfigFileExitsWithCode2() {
        Run run = courier(
                Map.of("COURIER_DATA_DIR", dataDir.toString(), "COURIER_PORT", "0"),
                "--config",
                outputDir.resolve("missing.properties").toString());

        assertOneLineConfigError(run, "--config");
    }

    @Test
    void serverStartsAndStopsGracefullyOnSigterm() throws Exception {
        Map<String, String> env = Map.of(
                "COURIER_DATA_DIR",
                dataDir.toString(),
                "COURIER_PORT",
                "0",
                "COURIER_HOST",
                "127.0.0.1",
                "COURIER_SHUTDOWN_TIMEOUT_SECONDS",
                "2");
        // Logs go to stderr; stdout is kept for command output.
        Path log = outputDir.resolve("server.err");
        Process process = start(env, outputDir.resolve("server.out"), log, List.of());
        try {
            awaitOutput(log, "courier listening on", PROCESS_TIMEOUT);

            process.destroy(); // SIGTERM

            assertTrue(
                    process.waitFor(PROCESS_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "server did not stop on SIGTERM");
            // 143 = 128 + SIGTERM: the JVM's exit status after its shutdown hooks ran.
            assertTrue(process.exitValue() == 0 || process.exitValue() == 143, "exit " + process.exitValue());
            assertTrue(Files.readString(log).contains("courier stopped"), Files.readString(log));
        } finally {
            process.destroyForcibly();
        }
    }

    @Test
    void startupLogMasksSecretsInEitherFormat() throws Exception {
        String jwtSecret = "jwt-secret-that-must-never-be-logged-0123456789";
        String metricsToken = "metrics-token-never-logged";
        String dbPassword = "db-password-never-logged";
        for (String format : List.of("logfmt", "json")) {
            Map<String, String> env = Map.of(
                    "COURIER_DATA_DIR",
                    dataDir.toString(),
                    "COURIER_PORT",
                    "0",
                    "COURIER_HOST",
                    "127.0.0.1",
                    "COURIER_JWT_SECRET",
                    jwtSecret,
                    "COURIER_METRICS_TOKEN",
                    metricsToken,
                    // Unreachable on purpose: the server starts without its database and says so.
                    "COURIER_DATABASE_URL",
                    "postgres://courier:" + dbPassword + "@127.0.0.1:1/courier",
                    "COURIER_DATABASE_TIMEOUT_MS",
                    "500",
                    "COURIER_LOG_FORMAT",
                    format);
            Path log = outputDir.resolve("startup-" + format + ".err");
            Process process = start(env, outputDir.resolve("startup-" + format + ".out"), log, List.of());
            try {
                awaitOutput(log, "courier listening on", PROCESS_TIMEOUT);
            } finally {
                process.destroy();
                process.waitFor(PROCESS_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                process.destroyForcibly();
            }
            String text = Files.readString(log);
            assertFalse(text.contains(jwtSecret), format + ": JWT secret leaked:\n" + text);
            assertFalse(text.contains(metricsToken), format + ": metrics token leaked:\n" + text);
            assertFalse(text.contains(dbPassword), format + ": database password leaked:\n" + text);
            assertTrue(text.contains("****"), format + ": the configuration line shows masked secrets:\n" + text);
            assertTrue(text.contains("transport=epoll") || text.contains("transport=nio"), text);
            assertTrue(text.contains("store=PostgreSQL 127.0.0.1:1"), "startup names the store: " + text);
            for (String line : text.split("\n")) {
                if (line.isBlank()) {
                    continue;
                }
                if (format.equals("json")) {
                    assertTrue(
                            line.startsWith("{") && line.endsWith("}") && line.contains("\"level\":"),
                            "one JSON object per line: " + line);
                } else {
                    assertTrue(
                            line.startsWith("ts=") && line.contains(" level=") && line.contains(" msg=\""),
                            "logfmt line: " + line);
                }
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static void assertOneLineConfigError(Run run, String key) {
        assertEquals(2, run.exitCode(), run::toString);
        List<String> lines = run.stderrLines();
        assertEquals(1, lines.size(), () -> "exactly one line on stderr: " + run);
        assertTrue(lines.get(0).contains(key), () -> "stderr should name " + key + ": " + run);
        assertFalse(
                run.stderr().contains("at io.") || run.stderr().contains("Exception"), () -> "no stack trace: " + run);
    }

    private Run courier(Map<String, String> env, String... args) {
        Path out = outputDir.resolve("run-" + System.nanoTime() + ".out");
        Path err = outputDir.resolve("run-" + System.nanoTime() + ".err");
        Process process = start(env, out, err, List.of(args));
        try {
            if (!process.waitFor(PROCESS_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly();
                fail("courier " + String.join(" ", args) + " did not finish within " + PROCESS_TIMEOUT + ":\n"
                        + read(out) + read(err));
            }
            return new Run(process.exitValue(), read(out), read(err));
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static Process start(Map<String, String> env, Path stdout, Path stderr, List<String> args) {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classPath(),
                Courier.class.getName()));
        command.addAll(args);
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
        // Only what the test sets: nothing inherited may configure Courier or make the JVM talk on stderr.
        builder.environment()
                .keySet()
                .removeIf(name -> name.startsWith("COURIER_")
                        || name.equals("JAVA_TOOL_OPTIONS")
                        || name.equals("_JAVA_OPTIONS")
                        || name.equals("JDK_JAVA_OPTIONS"));
        builder.environment().putAll(env);
        try {
            return builder.start();
        } catch (IOException e) {
            throw new AssertionError("cannot start " + command, e);
        }
    }

    /**
     * The runtime class path without the test classes, so the command sees what the shaded jar holds
     * (above all the shipped logback.xml, not the quiet logback-test.xml). Surefire may hide the real
     * class path behind a manifest-only jar; it publishes the real one in surefire.test.class.path.
     */
    private static String classPath() {
        String surefire = System.getProperty("surefire.test.class.path");
        String full = surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
        return Arrays.stream(full.split(File.pathSeparator))
                .filter(entry -> !Path.of(entry).endsWith(Path.of("target", "test-classes")))
                .collect(Collectors.joining(File.pathSeparator));
    }

    private static void awaitOutput(Path file, String text, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!read(file).contains(text)) {
            if (System.nanoTime() > deadline) {
                fail("no '" + text + "' within " + timeout + " in:\n" + read(file));
            }
            Thread.sleep(50); // pacing between polls, not synchronisation
        }
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file) : "";
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static String secretIn(Path dataDir) throws IOException {
        return Files.readString(dataDir.resolve("jwt-secret"), StandardCharsets.UTF_8)
                .strip();
    }

    private static boolean verifies(SignedJWT jwt, String secret) throws JOSEException {
        return jwt.verify(new MACVerifier(secret.getBytes(StandardCharsets.UTF_8)));
    }

    /** Splits on spaces; {@code ''} stands for an empty argument. */
    private static String[] split(String args) {
        return Arrays.stream(args.trim().split(" +"))
                .map(a -> a.equals("''") ? "" : a)
                .toArray(String[]::new);
    }
}
