package io.courier.auth;

import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyType;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.util.Base64;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jose.util.X509CertUtils;
import io.courier.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code courier.jwt.key.file}: a JWK, a JWK set, or PEM {@code PUBLIC KEY} / {@code CERTIFICATE}
 * blocks. Returns public keys only; private parts of a JWK are dropped. Startup only.
 *
 * <p>Why PEM is not {@code JWK.parseFromPEMEncodedObjects}: nimbus implements that with BouncyCastle's
 * {@code PEMParser}, an optional dependency that is not on our classpath (it fails with
 * {@code NoClassDefFoundError}); so does {@code JWK.parse(X509Certificate)} for EC certificates. The two
 * block types a verifier needs decode with the JDK alone: a certificate through nimbus
 * {@link X509CertUtils}, a SubjectPublicKeyInfo through {@link KeyFactory}; nimbus builds the JWK.
 */
final class PublicKeyFile {
    static final String KEY = "courier.jwt.key.file";

    // RFC 7468 section 2: the END label must repeat the BEGIN label.
    private static final Pattern PEM_BLOCK =
            Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END \\1-----", Pattern.DOTALL);

    private PublicKeyFile() {}

    static List<JWK> read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new ConfigException(KEY, "cannot read " + file.toAbsolutePath() + " (" + e + ")");
        }
        List<JWK> keys = text.strip().startsWith("{") ? fromJson(file, text) : fromPem(file, text);
        if (keys.isEmpty()) {
            throw new ConfigException(
                    KEY,
                    file.toAbsolutePath()
                            + " holds no key (expected: PEM PUBLIC KEY or CERTIFICATE, a JWK or a JWK set)");
        }
        List<JWK> publicKeys = new ArrayList<>();
        for (JWK key : keys) {
            if (!KeyType.RSA.equals(key.getKeyType()) && !KeyType.EC.equals(key.getKeyType())) {
                throw new ConfigException(
                        KEY,
                        file.toAbsolutePath() + " holds a " + key.getKeyType()
                                + " key (expected: RSA or EC; HMAC secrets belong in courier.jwt.secret)");
            }
            publicKeys.add(key.toPublicJWK());
        }
        return List.copyOf(publicKeys);
    }

    private static List<JWK> fromJson(Path file, String text) {
        try {
            Map<String, Object> json = JSONObjectUtils.parse(text);
            return json.containsKey("keys") ? JWKSet.parse(json).getKeys() : List.of(JWK.parse(json));
        } catch (ParseException e) {
            throw new ConfigException(
                    KEY, file.toAbsolutePath() + " is not a valid JWK or JWK set (" + e.getMessage() + ")");
        }
    }

    private static List<JWK> fromPem(Path file, String text) {
        List<JWK> keys = new ArrayList<>();
        Matcher block = PEM_BLOCK.matcher(text);
        while (block.find()) {
            String label = block.group(1);
            try {
                switch (label) {
                    case "PUBLIC KEY" -> keys.add(fromSubjectPublicKeyInfo(new Base64(block.group(2)).decode()));
                    case "CERTIFICATE" -> keys.add(fromCertificate(block.group()));
                    default ->
                        throw new ConfigException(
                                KEY,
                                file.toAbsolutePath() + " holds a PEM " + label
                                        + " block (expected: PUBLIC KEY or CERTIFICATE; Courier needs only the public key, e.g. openssl pkey -pubout)");
                }
            } catch (GeneralSecurityException e) {
                throw new ConfigException(
                        KEY,
                        file.toAbsolutePath() + " holds an unreadable PEM " + label + " block (" + e.getMessage()
                                + ")");
            }
        }
        return keys;
    }

    private static JWK fromSubjectPublicKeyInfo(byte[] der) throws GeneralSecurityException {
        X509EncodedKeySpec spec = new X509EncodedKeySpec(der);
        GeneralSecurityException notRsa;
        try {
            return toJwk(KeyFactory.getInstance("RSA").generatePublic(spec));
        } catch (GeneralSecurityException e) {
            notRsa = e;
        }
        try {
            return toJwk(KeyFactory.getInstance("EC").generatePublic(spec));
        } catch (GeneralSecurityException e) {
            e.addSuppressed(notRsa);
            throw new GeneralSecurityException("neither an RSA nor an EC public key", e);
        }
    }

    /** The certificate only carries the key: its validity dates and chain are the issuer's business. */
    private static JWK fromCertificate(String pem) throws GeneralSecurityException {
        X509Certificate cert = X509CertUtils.parse(pem);
        if (cert == null) {
            throw new GeneralSecurityException("not an X.509 certificate");
        }
        return toJwk(cert.getPublicKey());
    }

    private static JWK toJwk(PublicKey key) throws GeneralSecurityException {
        if (key instanceof RSAPublicKey rsa) {
            return new RSAKey.Builder(rsa).build();
        }
        if (key instanceof ECPublicKey ec) {
            Curve curve = Curve.forECParameterSpec(ec.getParams());
            if (curve == null) {
                throw new GeneralSecurityException("unsupported EC curve");
            }
            return new ECKey.Builder(curve, ec).build();
        }
        throw new GeneralSecurityException("a " + key.getAlgorithm() + " key (expected: RSA or EC)");
    }
}
