package io.earnidle.backend.http;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdsTest {

    /** The 32 hex digits of an id, as the UUID they spell. */
    private static UUID uuidOf(String id, String prefix) {
        String hex = id.substring(prefix.length());
        assertTrue(hex.matches("[0-9a-f]{32}"), id);
        return new UUID(Long.parseUnsignedLong(hex.substring(0, 16), 16),
                Long.parseUnsignedLong(hex.substring(16), 16));
    }

    @Test
    void anIdIsAVersion7UuidOfItsCreationMillisecond() {
        long before = System.currentTimeMillis();
        String id = Ids.newId("job_");
        long after = System.currentTimeMillis();
        assertTrue(id.startsWith("job_"), id);
        assertEquals(4 + 32, id.length());
        UUID u = uuidOf(id, "job_");
        assertEquals(7, u.version());
        assertEquals(2, u.variant()); // RFC 9562
        long millis = u.getMostSignificantBits() >>> 16;
        assertTrue(millis >= before && millis <= after, millis + " not in [" + before + ", " + after + "]");
    }

    @Test
    void idsOfALaterMillisecondSortAfterEarlierOnesAndTheRandomPartDiffers() throws InterruptedException {
        List<String> ids = new ArrayList<>();
        Set<String> randomParts = new HashSet<>();
        for (int i = 0; i < 200; i++) {
            String id = Ids.newId("le_");
            ids.add(id);
            randomParts.add(id.substring("le_".length() + 12)); // after the 48-bit millisecond
            if (i % 50 == 49) {
                long ms = System.currentTimeMillis();
                while (System.currentTimeMillis() == ms) {
                    Thread.sleep(0, 100_000);
                }
            }
        }
        assertEquals(ids.size(), randomParts.size(), "each id draws its own random bits");
        for (int i = 50; i < ids.size(); i += 50) {
            String lastOfBatch = ids.get(i - 1);
            for (int j = i; j < ids.size(); j++) {
                assertTrue(ids.get(j).compareTo(lastOfBatch) > 0, ids.get(j) + " sorts before " + lastOfBatch);
            }
        }
    }
}
