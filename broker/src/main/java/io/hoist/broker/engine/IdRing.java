package io.hoist.broker.engine;

import com.github.f4b6a3.ulid.Ulid;

import java.util.ArrayList;
import java.util.List;

/**
 * Job ids in FIFO order, each with the number they are ordered by, held compactly: the READY jobs
 * of one queue and priority with their ready order (the index leases take from), or the finished
 * jobs of one queue and state with the time their retention ends. Never the job itself, whose
 * record stays in the store. An id that is a canonical ULID (as the broker makes them) takes two
 * longs; any other id (chosen by a client) is kept as a string beside them. About 28 bytes an
 * entry, so a backlog of ten million ready jobs needs some 300 MiB of heap rather than gigabytes.
 */
final class IdRing {
    private static final int INITIAL_CAPACITY = 16;
    /** An emptied ring larger than this starts again small; a smaller one keeps its arrays. */
    private static final int SHRINK_ABOVE = 1024;

    private long[] high = new long[INITIAL_CAPACITY];
    private long[] low = new long[INITIAL_CAPACITY];
    private long[] order = new long[INITIAL_CAPACITY];
    /** Ids that are not canonical ULIDs; null until the first such id arrives. */
    private String[] other;
    private int head;
    private int size;

    int size() {
        return size;
    }

    boolean isEmpty() {
        return size == 0;
    }

    void add(String id, long number) {
        if (size == order.length) {
            grow();
        }
        int i = (head + size) & (order.length - 1);
        order[i] = number;
        if (isCanonicalUlid(id)) {
            Ulid ulid = Ulid.from(id);
            high[i] = ulid.getMostSignificantBits();
            low[i] = ulid.getLeastSignificantBits();
            if (other != null) {
                other[i] = null;
            }
        } else {
            if (other == null) {
                other = new String[order.length];
            }
            other[i] = id;
        }
        size++;
    }

    String headId() {
        return idAt(head);
    }

    /** The ids of the first {@code max} entries (fewer if the ring is shorter), head first. */
    List<String> headIds(int max) {
        int n = Math.min(max, size);
        List<String> ids = new ArrayList<>(n);
        for (int k = 0; k < n; k++) {
            ids.add(idAt((head + k) & (order.length - 1)));
        }
        return ids;
    }

    private String idAt(int i) {
        String id = other == null ? null : other[i];
        return id != null ? id : new Ulid(high[i], low[i]).toString();
    }

    long headOrder() {
        return order[head];
    }

    void removeHead() {
        if (other != null) {
            other[head] = null;
        }
        head = (head + 1) & (order.length - 1);
        size--;
        if (size == 0 && order.length > SHRINK_ABOVE) {
            // a drained backlog or a burst's retention gives its arrays back
            high = new long[INITIAL_CAPACITY];
            low = new long[INITIAL_CAPACITY];
            order = new long[INITIAL_CAPACITY];
            other = null;
            head = 0;
        }
    }

    /** How many entries the arrays hold before they grow (for tests). */
    int capacity() {
        return order.length;
    }

    /** Puts the entries in the order of their numbers; for a ring filled at start-up in the store's key order. */
    void sortByOrder() {
        if (head != 0) {
            throw new IllegalStateException("sortByOrder is for a ring filled from empty");
        }
        boolean sorted = true;
        for (int i = 1; i < size && sorted; i++) {
            sorted = order[i - 1] <= order[i]; // retention times repeat; ready orders never do
        }
        if (!sorted) {
            heapSort();
        }
    }

    private void heapSort() {
        for (int i = size / 2 - 1; i >= 0; i--) {
            siftDown(i, size);
        }
        for (int end = size - 1; end > 0; end--) {
            swap(0, end);
            siftDown(0, end);
        }
    }

    private void siftDown(int i, int end) {
        while (true) {
            int child = 2 * i + 1;
            if (child >= end) {
                return;
            }
            if (child + 1 < end && order[child + 1] > order[child]) {
                child++;
            }
            if (order[i] >= order[child]) {
                return;
            }
            swap(i, child);
            i = child;
        }
    }

    private void swap(int a, int b) {
        long o = order[a]; order[a] = order[b]; order[b] = o;
        long h = high[a]; high[a] = high[b]; high[b] = h;
        long l = low[a]; low[a] = low[b]; low[b] = l;
        if (other != null) {
            String s = other[a]; other[a] = other[b]; other[b] = s;
        }
    }

    private void grow() {
        int capacity = order.length * 2;
        high = unwrap(high, capacity);
        low = unwrap(low, capacity);
        order = unwrap(order, capacity);
        if (other != null) {
            String[] next = new String[capacity];
            for (int k = 0; k < size; k++) {
                next[k] = other[(head + k) & (other.length - 1)];
            }
            other = next;
        }
        head = 0;
    }

    private long[] unwrap(long[] values, int capacity) {
        long[] next = new long[capacity];
        int first = Math.min(size, values.length - head);
        System.arraycopy(values, head, next, 0, first);
        System.arraycopy(values, 0, next, first, size - first);
        return next;
    }

    /** 26 characters of Crockford base32, upper case, that decode to a ULID and back unchanged. */
    static boolean isCanonicalUlid(String id) {
        if (id.length() != 26 || id.charAt(0) > '7') {
            return false;
        }
        for (int i = 0; i < 26; i++) {
            char c = id.charAt(i);
            boolean digit = c >= '0' && c <= '9';
            boolean letter = c >= 'A' && c <= 'Z' && c != 'I' && c != 'L' && c != 'O' && c != 'U';
            if (!digit && !letter) {
                return false;
            }
        }
        return true;
    }
}
