package io.hoist.broker.engine;

import com.github.f4b6a3.ulid.UlidCreator;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class IdRingTest {

    /** Adds and removes at random, with ULIDs and client ids mixed: the ring answers like a FIFO queue. */
    @Property(tries = 200)
    void behavesAsAFifoOfIdsAndOrders(@ForAll @Size(max = 400) List<@IntRange(min = 0, max = 3) Integer> ops) {
        IdRing ring = new IdRing();
        ArrayDeque<Object[]> model = new ArrayDeque<>();
        long order = 0;
        for (int op : ops) {
            if (op == 0 && !model.isEmpty()) {
                assertThat(ring.headId()).isEqualTo(model.peekFirst()[0]);
                assertThat(ring.headOrder()).isEqualTo(model.peekFirst()[1]);
                ring.removeHead();
                model.pollFirst();
            } else {
                String id = op == 3 ? "client-id-" + order : UlidCreator.getUlid().toString();
                ring.add(id, ++order);
                model.addLast(new Object[] {id, order});
            }
            assertThat(ring.size()).isEqualTo(model.size());
        }
        while (!model.isEmpty()) {
            Object[] expected = model.pollFirst();
            assertThat(ring.headId()).isEqualTo(expected[0]);
            assertThat(ring.headOrder()).isEqualTo(expected[1]);
            ring.removeHead();
        }
        assertThat(ring.isEmpty()).isTrue();
    }

    @Test
    void aRingEmptiedAfterABurst_givesItsArraysBack_andGoesOnAsAFifo() {
        IdRing ring = new IdRing();
        for (long o = 1; o <= 5_000; o++) {
            ring.add(o % 2 == 0 ? "job-" + o : UlidCreator.getUlid().toString(), o);
        }
        assertThat(ring.capacity()).isGreaterThanOrEqualTo(5_000);
        while (!ring.isEmpty()) {
            ring.removeHead();
        }
        assertThat(ring.capacity()).isEqualTo(16);

        ring.add("a", 1);
        ring.add("b", 2);
        ring.removeHead();
        assertThat(ring.headId()).isEqualTo("b");
        assertThat(ring.headOrder()).isEqualTo(2);
    }

    @Test
    void sortByOrder_putsEntriesFilledInAnyOrderIntoReadyOrder() {
        List<Long> orders = new ArrayList<>();
        for (long o = 1; o <= 5_000; o++) {
            orders.add(o * 3);
        }
        Collections.shuffle(orders, new Random(7));
        IdRing ring = new IdRing();
        for (long o : orders) {
            ring.add(o % 2 == 0 ? "job-" + o : UlidCreator.getUlid().toString(), o);
        }
        ring.sortByOrder();
        long last = 0;
        while (!ring.isEmpty()) {
            long o = ring.headOrder();
            assertThat(o).isGreaterThan(last);
            if (o % 2 == 0) {
                assertThat(ring.headId()).isEqualTo("job-" + o); // ids travel with their orders
            }
            last = o;
            ring.removeHead();
        }
        assertThat(last).isEqualTo(15_000);
    }

    @Test
    void onlyCanonicalUlidsArePacked() {
        String ulid = UlidCreator.getUlid().toString();
        assertThat(IdRing.isCanonicalUlid(ulid)).isTrue();
        assertThat(IdRing.isCanonicalUlid(ulid.toLowerCase())).isFalse(); // would come back upper case
        assertThat(IdRing.isCanonicalUlid("8" + ulid.substring(1))).isFalse(); // more than 128 bits
        assertThat(IdRing.isCanonicalUlid("order-42")).isFalse();
        IdRing ring = new IdRing();
        ring.add(ulid.toLowerCase(), 1);
        assertThat(ring.headId()).isEqualTo(ulid.toLowerCase());
    }
}
