package io.earnidle.backend;

import io.earnidle.backend.ledger.Ledger;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LedgerSplitTest {

    @Test
    void partsAreExactFloorsAndSumToThePrice() {
        int[] bps = {0, 1, 999, 1000, 2000, 3333, 5000, 9999, 10000};
        for (long price = 0; price < 3000; price += 7) {
            for (int fee : bps) {
                for (int pub : bps) {
                    Ledger.Split s = Ledger.split(price, fee, pub);
                    assertEquals(price, s.total());
                    assertEquals(Math.floorDiv(price * fee, 10000), s.platformFee());
                    long rest = price - s.platformFee();
                    assertEquals(Math.floorDiv(rest * (10000 - pub), 10000), s.visitor());
                    assertTrue(s.publisher() >= 0 && s.visitor() >= 0);
                }
            }
        }
    }

    @Test
    void largeValuesAndBadInput() {
        Ledger.Split s = Ledger.split(Long.MAX_VALUE / 10000, 1000, 2000);
        assertEquals(Long.MAX_VALUE / 10000, s.total());
        assertThrows(IllegalArgumentException.class, () -> Ledger.split(-1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Ledger.split(1, 10001, 0));
    }
}
