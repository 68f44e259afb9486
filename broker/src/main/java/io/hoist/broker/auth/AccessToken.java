package io.hoist.broker.auth;

import java.util.List;
import java.util.Set;

/**
 * One entry of the tokens file: a name for logs, the SHA-256 of the secret (never the secret),
 * its roles, and the queues it may name (empty = every queue).
 */
public record AccessToken(String name, byte[] sha256, Set<Role> roles, List<QueuePattern> queues) {

    public AccessToken {
        roles = Set.copyOf(roles);
        queues = List.copyOf(queues);
    }

    /** Admin may do everything; the other roles only their own service. */
    public boolean has(Role needed) {
        return roles.contains(Role.ADMIN) || roles.contains(needed);
    }

    public boolean limitedToQueues() {
        return !queues.isEmpty();
    }

    public boolean mayUse(String queue) {
        return queues.isEmpty() || queues.stream().anyMatch(p -> p.matches(queue));
    }

    @Override
    public String toString() {
        return "AccessToken{name=" + name + ", roles=" + roles + ", queues=" + queues + "}"; // never the hash
    }
}
