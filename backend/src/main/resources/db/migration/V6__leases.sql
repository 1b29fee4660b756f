-- Leases that fit the job (issue 19, docs/trust.md "Leases"). Portable SQL: H2 2.x and PostgreSQL. Adds tables only.

-- The current lease's progress, one row per job: written when the job is leased (tokens_done 0), replaced by every
-- heartbeat (POST /api/inference/progress), deleted when the lease ends without a result. token_ids_json and
-- partial_text are the node's output so far, UNVERIFIED (the final result is verified; this is not): what a
-- streaming endpoint may relay while the node decodes.
CREATE TABLE job_progress (
    job_id            VARCHAR(64)  PRIMARY KEY REFERENCES jobs (id),
    lease_id          VARCHAR(64)  NOT NULL,
    session_id        VARCHAR(64)  NOT NULL REFERENCES node_sessions (id),
    leased_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    tokens_done       INTEGER      NOT NULL CHECK (tokens_done >= 0),
    token_ids_json    VARCHAR(1000000) NOT NULL,
    partial_text      VARCHAR(1000000) NOT NULL,
    heartbeats        INTEGER      NOT NULL,
    updated_at        TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Leases that ended without a result: 'timeout' (it expired without a heartbeat; the watchdog re-queued the job) or
-- 'reported' (the node reported a failure: reason out_of_memory, engine_error, download_failed, cancelled, other).
-- Each row is one failed attempt of the job (with its rejected_results) and counts against the node: per session,
-- and per wallet (the session's wallet when the lease ended; NULL without one). Reputation reads it.
CREATE TABLE lease_failures (
    id                VARCHAR(64)  PRIMARY KEY,
    job_id            VARCHAR(64)  NOT NULL REFERENCES jobs (id),
    lease_id          VARCHAR(64)  NOT NULL,
    session_id        VARCHAR(64)  NOT NULL REFERENCES node_sessions (id),
    wallet_address    VARCHAR(42),
    kind              VARCHAR(16)  NOT NULL CHECK (kind IN ('timeout', 'reported')),
    reason            VARCHAR(32)  NOT NULL,
    detail            VARCHAR(1000),
    tokens_done       INTEGER      NOT NULL,
    leased_at         TIMESTAMP WITH TIME ZONE,
    failed_at         TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX lease_failures_job_idx ON lease_failures (job_id, session_id);
CREATE INDEX lease_failures_session_idx ON lease_failures (session_id, kind);
CREATE INDEX lease_failures_wallet_idx ON lease_failures (wallet_address, kind);

-- Registrations per client address and placement, for the registration rate limit.
CREATE TABLE node_registrations (
    session_id        VARCHAR(64)  PRIMARY KEY REFERENCES node_sessions (id),
    client_address    VARCHAR(64)  NOT NULL,
    placement_id      VARCHAR(64)  NOT NULL,
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX node_registrations_client_idx ON node_registrations (client_address, placement_id, created_at);

-- The watchdog's query: leased jobs by expiry.
CREATE INDEX jobs_lease_expiry_idx ON jobs (status, lease_expires_at);
-- The lease cap's query: a session's leased jobs.
CREATE INDEX jobs_leased_to_idx ON jobs (leased_to, status);
