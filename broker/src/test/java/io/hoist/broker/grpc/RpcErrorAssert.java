package io.hoist.broker.grpc;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

/**
 * Assertions on a failed call, in the terms of API.md's "Errors": the status code and the
 * {@code google.rpc.ErrorInfo} reason (domain {@code hoist.io}), never the message text — except
 * that an INVALID_ARGUMENT message starts with the path of the field it names.
 */
final class RpcErrorAssert extends AbstractAssert<RpcErrorAssert, StatusRuntimeException> {

    private RpcErrorAssert(StatusRuntimeException actual) {
        super(actual, RpcErrorAssert.class);
    }

    /** Runs {@code call}, which must fail with a gRPC status. */
    static RpcErrorAssert assertRpcError(ThrowingCallable call) {
        Throwable thrown = catchThrowable(call);
        assertThat(thrown).as("the call should have failed with a gRPC status")
                .isInstanceOf(StatusRuntimeException.class);
        return new RpcErrorAssert((StatusRuntimeException) thrown);
    }

    RpcErrorAssert hasCode(Status.Code code) {
        isNotNull();
        assertThat(actual.getStatus().getCode()).as("status code of %s", actual.getStatus()).isEqualTo(code);
        return this;
    }

    /** The ErrorInfo detail is in domain hoist.io with this reason. */
    RpcErrorAssert hasReason(String reason) {
        ErrorInfo info = errorInfo();
        assertThat(info.getDomain()).as("ErrorInfo domain").isEqualTo(StatusMapper.DOMAIN);
        assertThat(info.getReason()).as("ErrorInfo reason of %s", actual.getStatus()).isEqualTo(reason);
        return this;
    }

    /** INVALID_ARGUMENT naming {@code path} in the ErrorInfo metadata and at the start of the message. */
    RpcErrorAssert isInvalidField(String path) {
        hasCode(Status.Code.INVALID_ARGUMENT);
        hasReason("INVALID_ARGUMENT");
        assertThat(errorInfo().getMetadataMap()).as("ErrorInfo metadata").containsEntry("field", path);
        assertThat(actual.getStatus().getDescription()).as("message").startsWith(path + ":");
        return this;
    }

    ErrorInfo errorInfo() {
        isNotNull();
        com.google.rpc.Status status = StatusProto.fromThrowable(actual);
        assertThat(status).as("rich status (grpc-status-details-bin) of %s", actual.getStatus()).isNotNull();
        for (Any detail : status.getDetailsList()) {
            if (detail.is(ErrorInfo.class)) {
                try {
                    return detail.unpack(ErrorInfo.class);
                } catch (InvalidProtocolBufferException e) {
                    throw new AssertionError("unreadable ErrorInfo detail", e);
                }
            }
        }
        throw new AssertionError("no google.rpc.ErrorInfo detail in " + status);
    }
}
