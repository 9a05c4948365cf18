package io.courier.error;

import java.util.Locale;

/**
 * An expected, client-caused failure that carries its {@link ErrorCode}. Thrown often on bad input,
 * so it skips the stack trace: filling one in would cost more than handling the error.
 */
public final class CourierException extends RuntimeException {
    // Never serialised (refusals travel as JSON); the field only quiets -Xlint:serial.
    private static final long serialVersionUID = 1L;

    private final ErrorCode code;
    private final String reason;

    public CourierException(ErrorCode code, String message) {
        this(code, null, message);
    }

    /** @param reason a short, stable label refining the code (a metric label), e.g. {@code expired} */
    public CourierException(ErrorCode code, String reason, String message) {
        super(message, null, false, false);
        this.code = code;
        this.reason = reason;
    }

    public CourierException(ErrorCode code, String message, Throwable cause) {
        super(message, cause, false, false);
        this.code = code;
        this.reason = null;
    }

    public ErrorCode code() {
        return code;
    }

    /** The refinement given at construction, else the code's name in lower case. */
    public String reason() {
        return reason != null ? reason : code.name().toLowerCase(Locale.ROOT);
    }
}
