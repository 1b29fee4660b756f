-- Earn Idle initial schema. Portable SQL: runs on H2 2.x (DATABASE_TO_LOWER=TRUE) and PostgreSQL.
-- All times are TIMESTAMP WITH TIME ZONE written by the application (UTC); money is BIGINT micro-USDC.

CREATE TABLE publishers (
    id          VARCHAR(64)  PRIMARY KEY,
    name        VARCHAR(200) NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE placements (
    id                   VARCHAR(64)  PRIMARY KEY,
    publisher_id         VARCHAR(64)  NOT NULL REFERENCES publishers (id),
    name                 VARCHAR(200) NOT NULL,
    publisher_share_bps  INTEGER      NOT NULL CHECK (publisher_share_bps BETWEEN 0 AND 10000),
    status               VARCHAR(16)  NOT NULL CHECK (status IN ('active', 'paused')),
    limits_json          VARCHAR(4000) NOT NULL,
    created_at           TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE customers (
    id              VARCHAR(64)  PRIMARY KEY,
    name            VARCHAR(200) NOT NULL,
    api_key_sha256  CHAR(64)     NOT NULL UNIQUE,
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE node_sessions (
    id                 VARCHAR(64)   PRIMARY KEY,
    token_sha256       CHAR(64)      NOT NULL UNIQUE,
    placement_id       VARCHAR(64)   NOT NULL REFERENCES placements (id),
    capabilities_json  VARCHAR(4000) NOT NULL,
    limits_json        VARCHAR(4000) NOT NULL,
    memory_limit_mb    INTEGER,
    created_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    last_seen_at       TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE models (
    id              VARCHAR(128) PRIMARY KEY,
    file_name       VARCHAR(255) NOT NULL,
    sha256          CHAR(64)     NOT NULL,
    size_bytes      BIGINT       NOT NULL CHECK (size_bytes > 0),
    vocab_size      INTEGER      NOT NULL CHECK (vocab_size > 0),
    context_length  INTEGER      NOT NULL CHECK (context_length > 0),
    status          VARCHAR(16)  NOT NULL CHECK (status IN ('active', 'retired')),
    created_at      TIMESTAMP WITH TIME ZONE NOT NULL
);

CREATE TABLE jobs (
    id                VARCHAR(64)  PRIMARY KEY,
    job_type          VARCHAR(32)  NOT NULL CHECK (job_type IN ('inference')),
    customer_id       VARCHAR(64)  NOT NULL REFERENCES customers (id),
    model_id          VARCHAR(128) NOT NULL REFERENCES models (id),
    prompt            VARCHAR(1000000),
    prompt_ids_json   VARCHAR(1000000),
    add_bos           BOOLEAN      NOT NULL,
    sampling_json     VARCHAR(1000) NOT NULL,
    max_tokens        INTEGER      NOT NULL CHECK (max_tokens > 0),
    price_micro_usdc  BIGINT       NOT NULL CHECK (price_micro_usdc >= 0),
    status            VARCHAR(16)  NOT NULL CHECK (status IN ('queued', 'leased', 'completed')),
    lease_id          VARCHAR(64),
    leased_to         VARCHAR(64)  REFERENCES node_sessions (id),
    lease_expires_at  TIMESTAMP WITH TIME ZONE,
    attempts          INTEGER      NOT NULL,
    version           BIGINT       NOT NULL,
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    completed_at      TIMESTAMP WITH TIME ZONE,
    CHECK ((prompt IS NULL AND prompt_ids_json IS NOT NULL) OR (prompt IS NOT NULL AND prompt_ids_json IS NULL))
);
CREATE INDEX jobs_queue_idx ON jobs (status, created_at);
CREATE INDEX jobs_customer_idx ON jobs (customer_id, status);

CREATE TABLE job_results (
    job_id            VARCHAR(64)  PRIMARY KEY REFERENCES jobs (id),
    session_id        VARCHAR(64)  NOT NULL REFERENCES node_sessions (id),
    lease_id          VARCHAR(64)  NOT NULL,
    result_text       VARCHAR(1000000) NOT NULL,
    token_ids_json    VARCHAR(1000000) NOT NULL,
    token_count       INTEGER      NOT NULL CHECK (token_count > 0),
    engine            VARCHAR(64)  NOT NULL,
    prefill_ms        DOUBLE PRECISION NOT NULL,
    decode_ms         DOUBLE PRECISION NOT NULL,
    idempotency_key   VARCHAR(200) NOT NULL UNIQUE,
    request_sha256    CHAR(64)     NOT NULL,
    response_json     VARCHAR(4000) NOT NULL,
    created_at        TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX job_results_session_idx ON job_results (session_id);

-- Double-entry ledger. Every transaction's entries sum to zero. balance_micro_usdc is the materialised sum of the
-- account's 'available' entries; 'pending' entries (available_at in the future) are not part of it yet.
CREATE TABLE ledger_accounts (
    id                  VARCHAR(200) PRIMARY KEY,
    owner_type          VARCHAR(16)  NOT NULL
                        CHECK (owner_type IN ('customer', 'node_session', 'publisher', 'platform', 'external')),
    owner_id            VARCHAR(128) NOT NULL,
    currency            VARCHAR(8)   NOT NULL CHECK (currency = 'USDC'),
    balance_micro_usdc  BIGINT       NOT NULL,
    created_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    UNIQUE (owner_type, owner_id, currency),
    CHECK (owner_type = 'external' OR balance_micro_usdc >= 0)
);

CREATE TABLE ledger_transactions (
    id          VARCHAR(64) PRIMARY KEY,
    job_id      VARCHAR(64) REFERENCES jobs (id),
    kind        VARCHAR(32) NOT NULL CHECK (kind IN ('deposit', 'job_payout')),
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    UNIQUE (job_id, kind)
);

CREATE TABLE ledger_entries (
    id                 VARCHAR(64)  PRIMARY KEY,
    transaction_id     VARCHAR(64)  NOT NULL REFERENCES ledger_transactions (id),
    account_id         VARCHAR(200) NOT NULL REFERENCES ledger_accounts (id),
    amount_micro_usdc  BIGINT       NOT NULL CHECK (amount_micro_usdc <> 0),
    state              VARCHAR(16)  NOT NULL CHECK (state IN ('pending', 'available')),
    available_at       TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at         TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, state);
CREATE INDEX ledger_entries_tx_idx ON ledger_entries (transaction_id);
CREATE INDEX ledger_entries_pending_idx ON ledger_entries (state, available_at);
