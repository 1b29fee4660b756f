-- Pay only for verified work (issue 19, docs/trust.md). Portable SQL: H2 2.x (DATABASE_TO_LOWER=TRUE) and PostgreSQL.
-- Unnamed V1 constraints are dropped under the name each database gave them (PostgreSQL: <table>_<column>_check /
-- _key; H2 2.x: CONSTRAINT_ + a hash, fixed for this schema) and named ones are added.

-- jobs: 'verifying' (a result waits for its verification: neither shown nor paid out), 'failed' (every allowed
-- attempt was rejected; the customer was refunded). verification: NULL until a result arrives, then
-- pending / passed / failed / skipped (not sampled) for the current result.
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_status_check;
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS "CONSTRAINT_31DC56_0";
ALTER TABLE jobs ADD CONSTRAINT jobs_status_chk
    CHECK (status IN ('queued', 'leased', 'verifying', 'completed', 'failed'));
ALTER TABLE jobs ADD COLUMN verification VARCHAR(16);
ALTER TABLE jobs ADD CONSTRAINT jobs_verification_chk
    CHECK (verification IS NULL OR verification IN ('pending', 'passed', 'failed', 'skipped'));
ALTER TABLE jobs ADD COLUMN verification_detail VARCHAR(1000);
CREATE INDEX jobs_verification_idx ON jobs (verification, completed_at);

-- ledger entries: 'reversed' = a pending credit that a failed verification took back, and the reversal's legs
-- that cancel it (neither ever counts in a balance).
ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS ledger_entries_state_check;
ALTER TABLE ledger_entries DROP CONSTRAINT IF EXISTS "CONSTRAINT_E1D05";
ALTER TABLE ledger_entries ADD CONSTRAINT ledger_entries_state_chk
    CHECK (state IN ('pending', 'available', 'reversed'));

-- A re-queued job is paid again (to the node whose result passes): one job_payout per accepted result, each
-- reversed when its result fails. The conditional job UPDATEs keep a result from being paid twice.
ALTER TABLE ledger_transactions DROP CONSTRAINT IF EXISTS ledger_transactions_job_id_kind_key;
ALTER TABLE ledger_transactions DROP CONSTRAINT IF EXISTS "CONSTRAINT_94E8";
CREATE INDEX ledger_transactions_job_idx ON ledger_transactions (job_id);
ALTER TABLE ledger_transactions DROP CONSTRAINT IF EXISTS ledger_transactions_kind_chk;
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_chk
    CHECK (kind IN ('deposit', 'job_payout', 'wallet_sweep', 'payout_intent', 'payout_confirmed', 'payout_failed',
                    'job_payout_reversal'));

-- Results whose verification failed, moved out of job_results so the job can take another node's result.
CREATE TABLE rejected_results (
    id                VARCHAR(64)  PRIMARY KEY,
    job_id            VARCHAR(64)  NOT NULL REFERENCES jobs (id),
    session_id        VARCHAR(64)  NOT NULL REFERENCES node_sessions (id),
    lease_id          VARCHAR(64)  NOT NULL,
    result_text       VARCHAR(1000000) NOT NULL,
    token_ids_json    VARCHAR(1000000) NOT NULL,
    engine            VARCHAR(64)  NOT NULL,
    payout_tx_id      VARCHAR(64)  NOT NULL REFERENCES ledger_transactions (id),
    reason            VARCHAR(1000) NOT NULL,
    submitted_at      TIMESTAMP WITH TIME ZONE NOT NULL,
    rejected_at       TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX rejected_results_session_idx ON rejected_results (session_id);
CREATE INDEX rejected_results_job_idx ON rejected_results (job_id);

-- The job_payout transaction of a result (what a failed verification reverses).
ALTER TABLE job_results ADD COLUMN payout_tx_id VARCHAR(64) REFERENCES ledger_transactions (id);
