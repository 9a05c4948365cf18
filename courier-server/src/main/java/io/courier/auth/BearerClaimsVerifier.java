package io.courier.auth;

import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.ExpiredJWTException;
import io.courier.text.Names;
import java.time.Clock;
import java.time.Duration;
import java.util.Date;
import java.util.List;
import java.util.Optional;

/**
 * Courier's claim rules for bearer JWTs, run by nimbus after the signature has been verified. Each
 * refusal is a {@link Refusal} whose message is the client-facing reason; nimbus keeps the exp/nbf
 * arithmetic with the configured clock skew. Any thread; immutable.
 */
final class BearerClaimsVerifier extends DefaultJWTClaimsVerifier<SecurityContext> {
    private final Optional<String> issuer;
    private final Clock clock;

    /** A refusal whose message is already fit for the client. */
    static final class Refusal extends BadJWTException {
        private static final long serialVersionUID = 1L;

        private final String reason;

        Refusal(String reason, String message) {
            super(message);
            this.reason = reason;
        }

        /** Bounded label for metrics. */
        String reason() {
            return reason;
        }
    }

    BearerClaimsVerifier(Optional<String> issuer, Duration clockSkew, Clock clock) {
        super(null, null, null, null);
        this.issuer = issuer;
        this.clock = clock;
        setMaxClockSkew(Math.toIntExact(clockSkew.toSeconds()));
    }

    @Override
    public void verify(JWTClaimsSet claims, SecurityContext context) throws BadJWTException {
        // Tokens must expire: a leaked token without exp would be valid forever.
        if (claims.getExpirationTime() == null) {
            throw new Refusal("claims", "missing exp claim");
        }
        // The audience scopes every topic; exactly one, because a principal acts for one audience.
        List<String> audience = claims.getAudience();
        if (audience.isEmpty() || audience.get(0) == null || audience.get(0).isEmpty()) {
            throw new Refusal("claims", "missing aud claim");
        }
        if (audience.size() > 1) {
            throw new Refusal("claims", "several audiences are not supported");
        }
        // The store keeps audience names up to 255 characters, the same bound as topic names.
        if (audience.get(0).length() > 255) {
            throw new Refusal("claims", "aud claim longer than 255 characters");
        }
        // Issue 10: a name must be well-formed Unicode without control characters, or "tenant\ud800" becomes
        // "tenant?" wherever it is encoded with replacement, and NUL fails PostgreSQL with a 500.
        String audienceProblem = Names.problem(audience.get(0));
        if (audienceProblem != null) {
            throw new Refusal("claims", "aud claim is not a valid name: " + audienceProblem);
        }
        String subject = claims.getSubject();
        if (subject != null && !subject.isEmpty() && Names.problem(subject) != null) {
            throw new Refusal("claims", "sub claim is not a valid name: " + Names.problem(subject));
        }
        if (issuer.isPresent() && !issuer.get().equals(claims.getIssuer())) {
            throw new Refusal("claims", "issuer mismatch");
        }
        try {
            super.verify(claims, context);
        } catch (ExpiredJWTException e) {
            throw new Refusal("expired", "token expired");
        } catch (BadJWTException e) {
            // With no required, exact-match or prohibited claims configured, the only other check left is nbf.
            throw new Refusal("not_yet_valid", "token not yet valid");
        }
    }

    @Override
    protected Date currentTime() {
        return Date.from(clock.instant());
    }
}
