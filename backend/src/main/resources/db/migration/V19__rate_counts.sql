-- Rate limits shared by a cluster (issue 23, wt-harden, billing/SharedRateCounters, docs/operations.md "Cluster
-- mode"). Portable SQL: H2 2.x and PostgreSQL; only cluster mode (PostgreSQL) writes rows.

-- The sum of one counter (sign-ups, API-key requests, tokens, spend) for one key (a client address, an API key's
-- SHA-256) in one slot of 1/1440 of the counter's window, starting at slot (epoch milliseconds). A row stops
-- counting, and may be deleted, at expires_at: a window after its slot ends.
CREATE TABLE rate_counts (
    counter     VARCHAR(32)  NOT NULL,
    count_key   VARCHAR(256) NOT NULL,
    slot        BIGINT       NOT NULL,
    amount      BIGINT       NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (counter, count_key, slot)
);
CREATE INDEX rate_counts_expiry ON rate_counts (expires_at);
