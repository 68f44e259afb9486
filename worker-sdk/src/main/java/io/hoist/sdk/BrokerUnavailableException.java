package io.hoist.sdk;

/**
 * The broker could not be reached ({@code UNAVAILABLE}: down, restarting, shutting down) or did
 * not answer within the call deadline ({@code DEADLINE_EXCEEDED}). After a deadline the outcome
 * of the call is unknown: an enqueue may or may not have been stored (give jobs a
 * {@code jobId} to make retrying safe).
 */
public class BrokerUnavailableException extends HoistException {
    public BrokerUnavailableException(BrokerError error, Throwable cause) {
        super(error, cause);
    }
}
