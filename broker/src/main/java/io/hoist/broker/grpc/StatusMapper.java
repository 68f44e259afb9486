package io.hoist.broker.grpc;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.hoist.broker.engine.Outcome;
import io.hoist.broker.store.DiskFullException;
import io.hoist.broker.store.StoreException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * The one place where failures become gRPC statuses (API.md, "Errors"): a code, a message that
 * names the field or the id, and a {@code google.rpc.ErrorInfo} whose stable {@code reason}
 * clients switch on.
 */
final class StatusMapper {
    static final String DOMAIN = "hoist.io";
    private static final Logger log = LoggerFactory.getLogger(StatusMapper.class);

    private StatusMapper() {
    }

    static StatusRuntimeException rejected(Outcome.Rejected r) {
        return switch (r.reason()) {
            case JOB_NOT_FOUND -> error(Code.NOT_FOUND, "JOB_NOT_FOUND", r.message(), Map.of());
            case WORKER_NOT_FOUND -> error(Code.NOT_FOUND, "WORKER_NOT_FOUND", r.message(), Map.of());
            case LEASE_LOST -> error(Code.FAILED_PRECONDITION, "LEASE_LOST", r.message(), Map.of());
            case JOB_FINISHED -> error(Code.FAILED_PRECONDITION, "JOB_FINISHED", r.message(), Map.of());
            case QUEUE_FULL -> error(Code.RESOURCE_EXHAUSTED, "QUEUE_FULL", r.message(), Map.of());
            case QUEUE_NOT_FOUND -> error(Code.NOT_FOUND, "QUEUE_NOT_FOUND", r.message(), Map.of());
            case SHUTTING_DOWN -> error(Code.UNAVAILABLE, "SHUTTING_DOWN", r.message(), Map.of());
        };
    }

    static StatusRuntimeException invalid(InvalidFieldException e) {
        return error(Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", e.getMessage(), Map.of("field", e.field()));
    }

    /** Anything else that went wrong while serving a call. */
    static StatusRuntimeException failure(Throwable t) {
        Throwable cause = t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
        if (cause instanceof InvalidFieldException e) {
            return invalid(e);
        }
        if (cause instanceof DiskFullException e) {
            return error(Code.RESOURCE_EXHAUSTED, "DISK_FULL", e.getMessage(), Map.of()); // refused before it was applied
        }
        if (cause instanceof StoreException e) {
            if (e.isNoSpace()) {
                // the write failed: a batch is stored whole or not at all, almost always not at all
                return error(Code.RESOURCE_EXHAUSTED, "DISK_FULL", "not stored: the broker's disk is full and the write"
                        + " failed; retry later with the same job ids (writes resume by themselves once space is freed)",
                        Map.of());
            }
            return error(Code.INTERNAL, "STORE_ERROR", "the broker could not write to its store; nothing of this call was stored", Map.of());
        }
        log.error("unexpected failure while serving a call", cause);
        return error(Code.INTERNAL, "INTERNAL", "internal error: " + cause, Map.of());
    }

    private static StatusRuntimeException error(Code code, String reason, String message, Map<String, String> metadata) {
        com.google.rpc.Status status = com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(message)
                .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason).putAllMetadata(metadata).build()))
                .build();
        return StatusProto.toStatusRuntimeException(status);
    }
}
