package io.hoist.broker.auth;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;
import java.util.Optional;

/**
 * Token authentication and roles for every gRPC call (health and reflection stay open): no or
 * an unknown token is UNAUTHENTICATED, a role or queue the token lacks is PERMISSION_DENIED, each
 * with a {@code google.rpc.ErrorInfo} (domain hoist.io). For a token limited to some queues the
 * request message itself is checked before it reaches the service. Refusals are logged at WARN
 * with the token's name and the peer, never the secret.
 */
public final class AuthInterceptor implements ServerInterceptor {
    static final String DOMAIN = "hoist.io";
    private static final Logger log = LoggerFactory.getLogger(AuthInterceptor.class);

    private final Tokens tokens;

    public AuthInterceptor(Tokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        Optional<Role> needed = Role.neededFor(call.getMethodDescriptor().getServiceName());
        if (needed.isEmpty()) {
            return next.startCall(call, headers);
        }
        String secret = Bearer.secret(headers.get(Bearer.AUTHORIZATION));
        if (secret == null) {
            return refuse(call, "no token", "", Code.UNAUTHENTICATED, "UNAUTHENTICATED",
                    "this broker needs a token: send the metadata 'authorization: Bearer <secret>' (SDK: token(...), CLI: --token or HOIST_TOKEN)",
                    Map.of());
        }
        Optional<AccessToken> token = tokens.find(secret);
        if (token.isEmpty()) {
            return refuse(call, "unknown token", "", Code.UNAUTHENTICATED, "UNAUTHENTICATED",
                    "the token is not in the broker's tokens file: check the secret, or mint one with 'hoist token create'",
                    Map.of());
        }
        AccessToken t = token.get();
        if (!t.has(needed.get())) {
            return refuse(call, t.name(), "needs_role=" + needed.get().label(), Code.PERMISSION_DENIED, "PERMISSION_DENIED",
                    "token '" + t.name() + "' has roles " + t.roles() + "; " + call.getMethodDescriptor().getFullMethodName()
                            + " needs " + needed.get().label() + " (or admin)", Map.of("role", needed.get().label()));
        }
        if (!t.limitedToQueues()) {
            return next.startCall(call, headers);
        }
        return new QueueCheck<>(next.startCall(call, headers), call, t);
    }

    private <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, String who, String why, Code code, String reason,
                                                 String message, Map<String, String> metadata) {
        close(call, who, why, code, reason, message, metadata);
        return new ServerCall.Listener<>() {
        };
    }

    /** @param why for the log: what the token lacked ({@code needs_role=worker}, {@code queue=billing}), or empty */
    private static void close(ServerCall<?, ?> call, String who, String why, Code code, String reason, String message,
                              Map<String, String> metadata) {
        log.warn("auth refused {} token={} peer={} method={}{}", code, who,
                call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR), call.getMethodDescriptor().getFullMethodName(),
                why.isEmpty() ? "" : " " + why);
        StatusRuntimeException e = StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
                .setCode(code.getNumber())
                .setMessage(message)
                .addDetails(Any.pack(ErrorInfo.newBuilder().setDomain(DOMAIN).setReason(reason).putAllMetadata(metadata).build()))
                .build());
        call.close(e.getStatus(), e.getTrailers());
    }

    /**
     * Holds back each request message until every queue it names is one the token may use; after a
     * refusal the call is closed and nothing more reaches the service.
     */
    private static final class QueueCheck<Q> extends ForwardingServerCallListener.SimpleForwardingServerCallListener<Q> {
        private final ServerCall<Q, ?> call;
        private final AccessToken token;
        private boolean refused;

        QueueCheck(ServerCall.Listener<Q> delegate, ServerCall<Q, ?> call, AccessToken token) {
            super(delegate);
            this.call = call;
            this.token = token;
        }

        @Override
        public void onMessage(Q message) {
            if (refused) {
                return;
            }
            if (RequestQueues.reachesEveryQueue(message)) {
                refused = true;
                close(call, token.name(), "reaches_every_queue", Code.PERMISSION_DENIED, "PERMISSION_DENIED", "token '" + token.name()
                        + "' is limited to queues " + token.queues() + "; this call reaches every queue", Map.of());
                return;
            }
            for (String queue : RequestQueues.named(message)) {
                if (!token.mayUse(queue)) {
                    refused = true;
                    close(call, token.name(), "queue=" + queue, Code.PERMISSION_DENIED, "PERMISSION_DENIED", "token '" + token.name()
                            + "' may not use queue '" + queue + "' (it may use " + token.queues() + ")", Map.of("queue", queue));
                    return;
                }
            }
            super.onMessage(message);
        }

        @Override
        public void onHalfClose() {
            if (!refused) {
                super.onHalfClose();
            }
        }

        @Override
        public void onReady() {
            if (!refused) {
                super.onReady();
            }
        }
    }
}
