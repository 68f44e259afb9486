package io.hoist.broker.auth;

import java.util.Locale;
import java.util.Optional;

/**
 * What a token may call, by gRPC service: producers the JobService, workers the WorkerService,
 * admins every service. Health checks and server reflection need no token.
 */
public enum Role {
    PRODUCER, WORKER, ADMIN;

    /** The role a call to {@code service} needs; empty for the services open to anyone. */
    static Optional<Role> neededFor(String service) {
        if (service == null) {
            return Optional.of(ADMIN);
        }
        return switch (service) {
            case "hoist.v1.JobService" -> Optional.of(PRODUCER);
            case "hoist.v1.WorkerService" -> Optional.of(WORKER);
            case "grpc.health.v1.Health", "grpc.reflection.v1.ServerReflection",
                 "grpc.reflection.v1alpha.ServerReflection" -> Optional.empty();
            default -> Optional.of(ADMIN); // AdminService, and anything added later until said otherwise
        };
    }

    /** As written in the tokens file and on the command line. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Role parse(String s) {
        for (Role r : values()) {
            if (r.label().equals(s.trim().toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        throw new IllegalArgumentException("unknown role '" + s + "': use producer, worker or admin");
    }
}
