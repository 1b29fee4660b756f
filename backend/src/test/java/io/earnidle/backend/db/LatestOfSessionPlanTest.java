package io.earnidle.backend.db;

import java.io.IOException;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Reads of "the latest row of a session", run for every lease and every receipt, read one row on the embedded H2
 * store, however long the session has worked (V24): H2's plan reads their index in order, not every row of the
 * session and then a sort. H2 chooses that order from the shape of the statement and the indexes, not from row
 * counts, so the plan of an empty store is the plan of a full one.
 */
class LatestOfSessionPlanTest {
    private TempStore store;

    @BeforeEach
    void open() throws IOException {
        store = TempStore.open("earnidle-plan");
    }

    @AfterEach
    void close() throws IOException {
        store.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"rc-chain-head", "lease-last-result-on-model"})
    void readsTheSessionsIndexInOrder(String statement) {
        String sql = store.config().get("db.statements." + statement).asString().get();
        Object[] params = sql.chars().filter(c -> c == '?').mapToObj(c -> "ns_x").toArray();
        String plan = store.db().execute().get("EXPLAIN " + sql, params)
                .map(r -> r.column(1).as(String.class).get()).orElseThrow();
        assertTrue(plan.contains("/* index sorted */"), statement + " sorts the session's rows:\n" + plan);
    }
}
