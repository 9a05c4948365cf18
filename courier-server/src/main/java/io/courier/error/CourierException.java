package io.courier.error;

/**
 * An expected, client-caused failure that carries its {@link ErrorCode}. Thrown often on bad input,
 * so it skips the stack trace: filling one in would cost more than handling the error.
 */
public final class CourierException extends RuntimeException {
    private final ErrorCode code;

    public CourierException(ErrorCode code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    public CourierException(ErrorCode code, String message, Throwable cause) {
        super(message, cause, false, false);
        this.code = code;
    }

    public ErrorCode code() {
        return code;
    }
}
