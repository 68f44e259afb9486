package io.hoist.broker.engine;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A registered worker. The registration is stored; the time it was last heard from is kept in
 * memory only (after a restart every session counts as just heard from).
 */
public final class Session {
    private final String workerId;
    private final String name;
    private final List<String> queues;
    private final int concurrency;
    private final Map<String, String> labels;
    private final long registeredAtMillis;
    long lastSeenMillis;
    final Set<Job> held = new LinkedHashSet<>();

    public Session(String workerId, String name, List<String> queues, int concurrency,
                   Map<String, String> labels, long registeredAtMillis) {
        this.workerId = workerId;
        this.name = name;
        this.queues = List.copyOf(queues);
        this.concurrency = concurrency;
        this.labels = Map.copyOf(labels);
        this.registeredAtMillis = registeredAtMillis;
        this.lastSeenMillis = registeredAtMillis;
    }

    /** How many more jobs this worker may hold, capped at {@code wanted}. */
    int capacity(int wanted) {
        return concurrency == 0 ? wanted : Math.max(0, Math.min(wanted, concurrency - held.size()));
    }

    public String workerId() { return workerId; }
    public String name() { return name; }
    public List<String> queues() { return queues; }
    /** 0 = no limit. */
    public int concurrency() { return concurrency; }
    public Map<String, String> labels() { return labels; }
    public long registeredAtMillis() { return registeredAtMillis; }
    public long lastSeenMillis() { return lastSeenMillis; }
    public int inFlight() { return held.size(); }
}
