package io.hoist.sdk;

/** {@code INVALID_ARGUMENT}: the broker refused a field; {@link #field()} names it as a path, e.g. {@code jobs[0].priority}. */
public class InvalidRequestException extends HoistException {
    public InvalidRequestException(BrokerError error, Throwable cause) {
        super(error, cause);
    }

    /** The offending field's path, or empty if the broker named none. */
    public String field() {
        return error().metadata().getOrDefault("field", "");
    }
}
