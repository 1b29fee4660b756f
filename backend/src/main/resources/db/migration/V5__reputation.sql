-- Reputation, trust tiers, canary and redundant check jobs (issue 19, docs/trust.md). Portable SQL: H2 2.x
-- (DATABASE_TO_LOWER=TRUE) and PostgreSQL.

-- The reputation of an identity: 'wallet:<lowercase address>' for a session linked to a verified (SIWE) wallet, so
-- it survives new sessions, else 'session:<node session id>'. Counters of verified outcomes; the score and the tier
-- are computed from them with the configured weights and thresholds (earnidle.trust.reputation / tiers).
CREATE TABLE reputations (
    identity                 VARCHAR(120) PRIMARY KEY,
    successes                BIGINT NOT NULL CHECK (successes >= 0),
    failures                 BIGINT NOT NULL CHECK (failures >= 0),
    timeouts                 BIGINT NOT NULL CHECK (timeouts >= 0),
    successes_since_failure  BIGINT NOT NULL CHECK (successes_since_failure >= 0),
    last_failure_at          TIMESTAMP WITH TIME ZONE,
    updated_at               TIMESTAMP WITH TIME ZONE NOT NULL
);

-- The lowest tier allowed to lease a job (its class); customer jobs default to every tier.
ALTER TABLE jobs ADD COLUMN min_tier VARCHAR(16) DEFAULT 'probation' NOT NULL;
ALTER TABLE jobs ADD CONSTRAINT jobs_min_tier_chk CHECK (min_tier IN ('probation', 'verified', 'trusted'));
-- Check jobs the platform pays for: NULL = a customer's job, 'canary' (known answer), 'replica' (a second run of
-- replica_of by another identity). Nothing of this is in the lease a node sees.
ALTER TABLE jobs ADD COLUMN check_kind VARCHAR(16);
ALTER TABLE jobs ADD CONSTRAINT jobs_check_kind_chk CHECK (check_kind IS NULL OR check_kind IN ('canary', 'replica'));
ALTER TABLE jobs ADD COLUMN replica_of VARCHAR(64) REFERENCES jobs (id);
CREATE INDEX jobs_replica_of_idx ON jobs (replica_of);
-- An identity that must not lease the job (a replica is never run by the identity whose result it checks).
ALTER TABLE jobs ADD COLUMN exclude_identity VARCHAR(120);

-- verification 'redundant': the result waits for a replica's result to be compared with.
ALTER TABLE jobs DROP CONSTRAINT IF EXISTS jobs_verification_chk;
ALTER TABLE jobs ADD CONSTRAINT jobs_verification_chk
    CHECK (verification IS NULL OR verification IN ('pending', 'passed', 'failed', 'skipped', 'redundant'));

-- The known answer of a canary job, computed by the backend's JVM engine when its result is checked.
CREATE TABLE canary_answers (
    job_id          VARCHAR(64) PRIMARY KEY REFERENCES jobs (id),
    token_ids_json  VARCHAR(1000000) NOT NULL,
    result_text     VARCHAR(1000000) NOT NULL,
    computed_at     TIMESTAMP WITH TIME ZONE NOT NULL
);
