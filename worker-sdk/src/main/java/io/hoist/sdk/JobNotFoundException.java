package io.hoist.sdk;

/** {@code NOT_FOUND JOB_NOT_FOUND}: no such job, or its record is gone after the broker's retention. */
public class JobNotFoundException extends HoistException {
    public JobNotFoundException(BrokerError error, Throwable cause) {
        super(error, cause);
    }
}
