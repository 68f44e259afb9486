package io.hoist.broker.engine;

import java.util.Comparator;
import java.util.PriorityQueue;
import java.util.function.Predicate;

/**
 * Items ordered by deadline. Entries are never removed when their item changes; instead the owner
 * says which entries are still current, and stale ones are dropped when they reach the head.
 * That keeps every change O(log n) without a search.
 */
final class DeadlineQueue<T> {
    record Entry<T>(long atMillis, long slot, T item) {
    }

    private final PriorityQueue<Entry<T>> heap =
            new PriorityQueue<>(Comparator.comparingLong((Entry<T> e) -> e.atMillis()));
    private final Predicate<Entry<T>> current;

    DeadlineQueue(Predicate<Entry<T>> current) {
        this.current = current;
    }

    void add(long atMillis, long slot, T item) {
        heap.add(new Entry<>(atMillis, slot, item));
    }

    /** The earliest current deadline, or {@code Long.MAX_VALUE}. */
    long nextDeadline() {
        dropStaleHead();
        Entry<T> head = heap.peek();
        return head == null ? Long.MAX_VALUE : head.atMillis();
    }

    /** The next current item due at {@code nowMillis} (deadline <= now), or null. */
    T pollDue(long nowMillis) {
        dropStaleHead();
        Entry<T> head = heap.peek();
        if (head == null || head.atMillis() > nowMillis) {
            return null;
        }
        heap.poll();
        return head.item();
    }

    void clear() {
        heap.clear();
    }

    private void dropStaleHead() {
        while (!heap.isEmpty() && !current.test(heap.peek())) {
            heap.poll();
        }
    }
}
