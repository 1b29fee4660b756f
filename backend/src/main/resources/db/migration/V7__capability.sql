-- Measured capability and dispatch (issue 19, docs/trust.md "Capability, timing plausibility and dispatch").
-- Portable SQL: H2 2.x (DATABASE_TO_LOWER=TRUE) and PostgreSQL. Only adds tables and columns.

-- A benchmark job is reserved for the one session it measures (NULL: a customer job, leasable by any session).
-- Benchmark jobs belong to the customer 'platform-benchmark' and are unpaid: price 0, so their job_payout
-- transaction has no entries (the ledger stays zero-sum with nothing to settle or reverse).
ALTER TABLE jobs ADD COLUMN benchmark_for VARCHAR(64) REFERENCES node_sessions (id);
CREATE INDEX jobs_benchmark_idx ON jobs (benchmark_for, status);
-- No API key can hash to this value (a SHA-256 hex digest never contains 'z').
INSERT INTO customers (id, name, api_key_sha256, created_at)
    VALUES ('platform-benchmark', 'Platform benchmarks (unpaid)',
            'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz', CURRENT_TIMESTAMP);
-- Its ledger account (a result's job_payout locks it; a benchmark's payout has no entries, so it stays at 0).
INSERT INTO ledger_accounts (id, owner_type, owner_id, currency, balance_micro_usdc, created_at)
    VALUES ('customer:platform-benchmark', 'customer', 'platform-benchmark', 'USDC', 0, CURRENT_TIMESTAMP);

-- What the node reported at registration (a hint: JSON array of engine names).
ALTER TABLE node_sessions ADD COLUMN reported_engines VARCHAR(1000);

-- Measured capability per session and engine, from the session's benchmark result. status: 'measured' (usable),
-- 'stale' (a re-benchmark is due: verified work far faster than this, or a result from an engine not measured yet),
-- 'failed' (the benchmark result failed verification or its timing was implausible: no customer jobs).
CREATE TABLE node_capabilities (
    session_id        VARCHAR(64)  NOT NULL REFERENCES node_sessions (id),
    engine            VARCHAR(64)  NOT NULL,
    status            VARCHAR(16)  NOT NULL CHECK (status IN ('measured', 'stale', 'failed')),
    model_id          VARCHAR(128) NOT NULL,
    prefill_tok_s     DOUBLE PRECISION NOT NULL,
    decode_tok_s      DOUBLE PRECISION NOT NULL,
    benchmark_job_id  VARCHAR(64)  REFERENCES jobs (id),
    measured_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (session_id, engine)
);

-- When each lease began (the wall time between lease and result is the benchmark's cross-check).
CREATE TABLE lease_observations (
    lease_id    VARCHAR(64) PRIMARY KEY,
    job_id      VARCHAR(64) NOT NULL REFERENCES jobs (id),
    session_id  VARCHAR(64) NOT NULL REFERENCES node_sessions (id),
    leased_at   TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Model files a session holds. status: 'challenged' (claimed at registration, the byte-range challenge not answered
-- yet), 'proved' (answered correctly, or the session delivered a result on that file), 'failed' (wrong answer),
-- 'dropped' (the node no longer lists it). Only 'proved' counts as warm.
CREATE TABLE model_possession (
    session_id    VARCHAR(64)  NOT NULL REFERENCES node_sessions (id),
    sha256        CHAR(64)     NOT NULL,
    status        VARCHAR(16)  NOT NULL CHECK (status IN ('challenged', 'proved', 'failed', 'dropped')),
    range_offset  BIGINT,
    range_length  INTEGER,
    updated_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (session_id, sha256)
);
CREATE INDEX model_possession_sha_idx ON model_possession (sha256, status);

-- A result whose timing is implausibly fast: the verifier fails it without running it (the same failure path).
ALTER TABLE job_results ADD COLUMN implausible_timing VARCHAR(1000);
