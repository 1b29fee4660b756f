-- Cascade (issue 21, wt-cascade: backend/.../cascade, docs/api.md "Cascade"). Portable SQL: H2 2.x and PostgreSQL.

-- 'cascading': the job was claimed for an upstream OpenAI-compatible API and its answer is awaited; no node can
-- lease it (the claim is one conditional UPDATE on the job's version, like a node's lease).
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_status_chk;
ALTER TABLE jobs ADD CONSTRAINT jobs_status_chk
    CHECK (status IN ('queued', 'leased', 'cascading', 'verifying', 'completed', 'failed'));
-- the tier the job was routed to when it cascaded (a class of nodes: 'verified', 'trusted'; or 'upstream'); NULL
-- while it is with the nodes of its own class. cascaded_at: when it last moved, from when its next deadline runs.
ALTER TABLE jobs ADD COLUMN served_tier VARCHAR(16);
ALTER TABLE jobs ADD COLUMN cascaded_at TIMESTAMP WITH TIME ZONE;
CREATE INDEX jobs_cascade_idx ON jobs (status, min_tier, created_at);

-- The answer of an upstream-served job (job_results holds the nodes' results); charge_tx_id: its one charge.
CREATE TABLE cascade_results (
    job_id             VARCHAR(64)      PRIMARY KEY REFERENCES jobs (id),
    tier               VARCHAR(16)      NOT NULL,
    result_text        VARCHAR(1000000) NOT NULL,
    finish_reason      VARCHAR(32),
    prompt_tokens      INTEGER          NOT NULL CHECK (prompt_tokens >= 0),
    completion_tokens  INTEGER          NOT NULL CHECK (completion_tokens >= 0),
    upstream_ms        DOUBLE PRECISION NOT NULL,
    charge_tx_id       VARCHAR(64)      NOT NULL REFERENCES ledger_transactions (id),
    created_at         TIMESTAMP WITH TIME ZONE NOT NULL
);
