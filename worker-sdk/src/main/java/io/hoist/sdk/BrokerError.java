package io.hoist.sdk;

import io.grpc.Status;

import java.util.Map;

/**
 * What the broker (or the transport) said when a call failed.
 *
 * @param code     the gRPC status code
 * @param reason   the stable {@code google.rpc.ErrorInfo} reason (API.md, "Errors"), e.g.
 *                 {@code JOB_NOT_FOUND}, {@code QUEUE_FULL}, {@code INVALID_ARGUMENT}; empty when the
 *                 failure came from the transport rather than the broker
 * @param message  the broker's (or the transport's) message
 * @param metadata the ErrorInfo metadata, e.g. {@code field} for INVALID_ARGUMENT
 */
public record BrokerError(Status.Code code, String reason, String message, Map<String, String> metadata) {

    public BrokerError {
        reason = reason == null ? "" : reason;
        message = message == null ? "" : message;
        metadata = Map.copyOf(metadata);
    }

    @Override
    public String toString() {
        return message + " [" + code + (reason.isEmpty() ? "" : " " + reason) + "]";
    }
}
