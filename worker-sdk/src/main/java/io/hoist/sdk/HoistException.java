package io.hoist.sdk;

import io.grpc.Status;

import java.util.Objects;

/**
 * A call to the broker failed. Carries what the broker said: switch on {@link #reason()} (stable)
 * or {@link #code()}, never on the message text. Subclasses name the cases callers usually
 * handle; any other failure (e.g. {@code FAILED_PRECONDITION JOB_FINISHED} when cancelling a
 * finished job) is a plain {@code HoistException}.
 */
public class HoistException extends RuntimeException {
    private final BrokerError error;

    public HoistException(BrokerError error, Throwable cause) {
        this(error.toString(), error, cause);
    }

    protected HoistException(String message, BrokerError error, Throwable cause) {
        super(message, cause);
        this.error = Objects.requireNonNull(error, "error");
    }

    public BrokerError error() {
        return error;
    }

    public Status.Code code() {
        return error.code();
    }

    /** The ErrorInfo reason, e.g. {@code JOB_NOT_FOUND}; empty if the broker gave none. */
    public String reason() {
        return error.reason();
    }

    public String brokerMessage() {
        return error.message();
    }
}
