package io.hoist.sdk.internal;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.hoist.proto.v1.StreamError;
import io.hoist.sdk.BrokerError;
import io.hoist.sdk.BrokerUnavailableException;
import io.hoist.sdk.HoistException;
import io.hoist.sdk.InvalidRequestException;
import io.hoist.sdk.JobNotFoundException;

import java.util.Map;

/** Reads the broker's errors: the status code and the {@code google.rpc.ErrorInfo} (domain hoist.io). */
public final class StatusErrors {
    public static final String QUEUE_FULL = "QUEUE_FULL";
    public static final String DISK_FULL = "DISK_FULL";
    public static final String JOB_NOT_FOUND = "JOB_NOT_FOUND";
    public static final String WORKER_NOT_FOUND = "WORKER_NOT_FOUND";

    private StatusErrors() {
    }

    public static BrokerError error(StatusRuntimeException e) {
        Status status = e.getStatus();
        ErrorInfo info = errorInfo(e);
        String message = status.getDescription() != null ? status.getDescription()
                : status.getCause() != null ? status.getCause().toString() : "";
        return new BrokerError(status.getCode(), info != null ? info.getReason() : "", message,
                info != null ? info.getMetadataMap() : Map.of());
    }

    private static ErrorInfo errorInfo(StatusRuntimeException e) {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        if (status == null) {
            return null;
        }
        for (Any detail : status.getDetailsList()) {
            if (detail.is(ErrorInfo.class)) {
                try {
                    return detail.unpack(ErrorInfo.class);
                } catch (InvalidProtocolBufferException ignored) {
                    return null;
                }
            }
        }
        return null;
    }

    /** The typed exception for a failed producer call. */
    public static HoistException toException(StatusRuntimeException e) {
        BrokerError error = error(e);
        return switch (error.code()) {
            case NOT_FOUND -> JOB_NOT_FOUND.equals(error.reason()) ? new JobNotFoundException(error, e)
                    : new HoistException(error, e);
            case INVALID_ARGUMENT -> new InvalidRequestException(error, e);
            case UNAVAILABLE, DEADLINE_EXCEEDED -> new BrokerUnavailableException(error, e);
            default -> new HoistException(error, e);
        };
    }

    public static String reason(StatusRuntimeException e) {
        ErrorInfo info = errorInfo(e);
        return info != null ? info.getReason() : "";
    }

    /** The broker is away or slow: try again later (or elsewhere). */
    public static boolean isTransient(StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
    }

    /** The broker no longer knows this worker's session (NOT_FOUND WORKER_NOT_FOUND): register again. */
    public static boolean isSessionGone(StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
            return false;
        }
        String reason = reason(e);
        return WORKER_NOT_FOUND.equals(reason) || reason.isEmpty(); // a broker without ErrorInfo: only sessions are looked up
    }

    /** The broker's disk is full (RESOURCE_EXHAUSTED DISK_FULL): nothing was stored; it takes writes again once space is freed. */
    public static boolean isDiskFull(StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED && DISK_FULL.equals(reason(e));
    }

    public static boolean isQueueFull(StatusRuntimeException e) {
        return e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED && QUEUE_FULL.equals(reason(e));
    }

    /** A StreamError as the status the same unary call would have failed with, ErrorInfo included. */
    public static StatusRuntimeException fromStreamError(StreamError error) {
        ErrorInfo.Builder info = ErrorInfo.newBuilder().setDomain("hoist.io").setReason(error.getReason());
        if (!error.getField().isEmpty()) {
            info.putMetadata("field", error.getField());
        }
        return StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(error.getCode()).setMessage(error.getMessage()).addDetails(Any.pack(info.build())).build());
    }
}
