package io.courier.auth;

import com.nimbusds.jose.util.Base64URL;
import io.courier.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A random 256-bit secret generated once into the data directory and reused on every later start, so
 * restarts, and several servers sharing the directory, agree on it. Startup only.
 *
 * <p>The file holds the secret as 43 base64url characters. For the JWT secret that text itself is the
 * HMAC key, exactly as {@code courier.jwt.secret} is, so an operator can copy it into the service that
 * issues tokens.
 *
 * <p>Hazard: two servers starting together on an empty directory race to create the file. Each writes a
 * private temporary file and links it into place; linking never replaces an existing file, so the first
 * server wins and the other reads the winner's secret.
 */
final class SecretFile {
    private static final Logger log = LoggerFactory.getLogger(SecretFile.class);
    private static final String DATA_DIR_KEY = "courier.data.dir";
    private static final int SECRET_BYTES = 32;
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private static final SecureRandom random = new SecureRandom();

    /** @param created true when this call generated the file */
    record Contents(String text, boolean created) {}

    private SecretFile() {}

    static Contents readOrCreate(Path file) {
        try {
            if (Files.exists(file)) {
                return new Contents(read(file), false);
            }
            boolean created = publish(file, Base64URL.encode(randomBytes()).toString());
            return new Contents(read(file), created);
        } catch (IOException e) {
            throw new ConfigException(DATA_DIR_KEY, "cannot create or read " + file.toAbsolutePath() + " (" + e + ")");
        }
    }

    private static boolean publish(Path file, String secret) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = posix(dir)
                ? Files.createTempFile(
                        dir, file.getFileName() + ".", ".tmp", PosixFilePermissions.asFileAttribute(OWNER_ONLY))
                : Files.createTempFile(dir, file.getFileName() + ".", ".tmp");
        try {
            Files.writeString(tmp, secret, StandardCharsets.US_ASCII);
            try {
                Files.createLink(file, tmp);
            } catch (FileAlreadyExistsException lostRace) {
                return false;
            } catch (UnsupportedOperationException | FileSystemException noHardLinks) {
                // Without hard links a plain move still refuses to replace, with a tiny check-then-act window.
                try {
                    Files.move(tmp, file);
                } catch (FileAlreadyExistsException lostRace) {
                    return false;
                }
            }
            return true;
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static String read(Path file) throws IOException {
        if (posix(file) && !OWNER_ONLY.containsAll(Files.getPosixFilePermissions(file))) {
            log.warn("{} is readable by other users; restrict it with chmod 600", file.toAbsolutePath());
        }
        String text = Files.readString(file, StandardCharsets.UTF_8).strip();
        if (text.length() < SECRET_BYTES) {
            throw new ConfigException(
                    DATA_DIR_KEY,
                    file.toAbsolutePath() + " holds no usable secret (expected: at least " + SECRET_BYTES
                            + " characters); delete it to generate a new one");
        }
        return text;
    }

    private static boolean posix(Path path) {
        return path.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[SECRET_BYTES];
        random.nextBytes(bytes);
        return bytes;
    }
}
