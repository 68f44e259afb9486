package io.hoist.broker.engine;

import java.util.Comparator;

/**
 * Where a page of ListJobs ends, as a token the next call sends back. Ready jobs are listed in
 * lease order (priority, then ready order), the others oldest first (creation time, then id), so
 * a page stays correct while jobs come and go between calls.
 */
public record PageKey(long first, long second, String id) implements Comparable<PageKey> {
    private static final Comparator<PageKey> ORDER = Comparator.comparingLong(PageKey::first)
            .thenComparingLong(PageKey::second).thenComparing(PageKey::id);

    static PageKey of(Job job, boolean leaseOrder) {
        return leaseOrder
                ? new PageKey(-job.spec().priority(), job.order(), job.id())
                : new PageKey(job.createdAtMillis(), 0, job.id());
    }

    /** @throws IllegalArgumentException for a token this class did not make */
    static PageKey parse(String token) {
        String[] parts = token.split(":", 3);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a page token: " + token);
        }
        return new PageKey(Long.parseLong(parts[0]), Long.parseLong(parts[1]), parts[2]);
    }

    /** Checks a token's form without parsing it twice elsewhere. */
    public static boolean isToken(String token) {
        try {
            parse(token);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    String token() {
        return first + ":" + second + ":" + id;
    }

    @Override
    public int compareTo(PageKey o) {
        return ORDER.compare(this, o);
    }
}
