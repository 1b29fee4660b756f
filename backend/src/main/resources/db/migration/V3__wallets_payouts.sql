-- Non-custodial wallets, Sign-In with Ethereum, signed withdrawals and on-chain USDC payouts (issue 6).
-- Portable SQL: H2 2.x (DATABASE_TO_LOWER=TRUE) and PostgreSQL.

-- New ledger account owners ('wallet': a verified visitor wallet, owner_id = lowercase 0x address; 'system':
-- internal accounts such as payouts-in-flight) and transaction kinds. V1 declared both lists as unnamed CHECKs:
-- drop them under the name each database gave them (PostgreSQL: <table>_<column>_check; H2 2.x: CONSTRAINT_ + a
-- hash of the table name, fixed for this schema) and add named ones. The balance check
-- (owner_type = 'external' OR balance >= 0) is unchanged, so wallet and system accounts can never go negative.
ALTER TABLE ledger_accounts DROP CONSTRAINT IF EXISTS ledger_accounts_owner_type_check;
ALTER TABLE ledger_accounts DROP CONSTRAINT IF EXISTS "CONSTRAINT_55";
ALTER TABLE ledger_accounts ADD CONSTRAINT ledger_accounts_owner_type_chk
    CHECK (owner_type IN ('customer', 'node_session', 'publisher', 'platform', 'external', 'wallet', 'system'));
ALTER TABLE ledger_transactions DROP CONSTRAINT IF EXISTS ledger_transactions_kind_check;
ALTER TABLE ledger_transactions DROP CONSTRAINT IF EXISTS "CONSTRAINT_94E";
ALTER TABLE ledger_transactions ADD CONSTRAINT ledger_transactions_kind_chk
    CHECK (kind IN ('deposit', 'job_payout', 'wallet_sweep', 'payout_intent', 'payout_confirmed', 'payout_failed'));
-- What a non-job transaction belongs to (payout id, node session id).
ALTER TABLE ledger_transactions ADD COLUMN reference VARCHAR(64);
CREATE INDEX ledger_transactions_reference_idx ON ledger_transactions (reference);

-- A wallet proved by a SIWE signature. address is lowercase 0x + 40 hex.
CREATE TABLE wallets (
    address      VARCHAR(42) PRIMARY KEY,
    verified_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL
);

-- SIWE nonces: single use (used_at set once, by a conditional update), with an expiry.
CREATE TABLE siwe_nonces (
    nonce       VARCHAR(64) PRIMARY KEY,
    issued_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    used_at     TIMESTAMP WITH TIME ZONE
);
CREATE INDEX siwe_nonces_expiry_idx ON siwe_nonces (expires_at);

-- Bearer tokens handed out after a SIWE verification; only the SHA-256 is stored.
CREATE TABLE wallet_sessions (
    id            VARCHAR(64) PRIMARY KEY,
    token_sha256  CHAR(64)    NOT NULL UNIQUE,
    address       VARCHAR(42) NOT NULL REFERENCES wallets (address),
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at    TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX wallet_sessions_address_idx ON wallet_sessions (address);

-- A node session linked to a verified wallet: its credits are swept into the wallet's account as they become
-- available.
ALTER TABLE node_sessions ADD COLUMN wallet_address VARCHAR(42) REFERENCES wallets (address);
CREATE INDEX node_sessions_wallet_idx ON node_sessions (wallet_address);

-- Withdrawals. A row is written (with the ledger move account -> payouts-in-flight) before anything is sent.
-- status: requested (intent recorded) -> signed (chain nonce fixed, raw transaction stored, maybe broadcast)
--         -> sent (the node knows the transaction) -> confirmed | failed (funds returned).
CREATE TABLE payouts (
    id                 VARCHAR(64)  PRIMARY KEY,
    account_id         VARCHAR(200) NOT NULL REFERENCES ledger_accounts (id),
    signer             VARCHAR(42)  NOT NULL,
    destination        VARCHAR(42)  NOT NULL,
    amount_micro_usdc  BIGINT       NOT NULL CHECK (amount_micro_usdc > 0),
    request_nonce      BIGINT       NOT NULL CHECK (request_nonce >= 0),
    deadline           BIGINT       NOT NULL,
    signature          VARCHAR(132) NOT NULL,
    status             VARCHAR(16)  NOT NULL CHECK (status IN ('requested', 'signed', 'sent', 'confirmed', 'failed')),
    chain_id           BIGINT       NOT NULL,
    token_address      VARCHAR(42)  NOT NULL,
    from_address       VARCHAR(42),
    chain_nonce        BIGINT,
    raw_tx             VARCHAR(4000),
    tx_hash            VARCHAR(66),
    block_number       BIGINT,
    failure_reason     VARCHAR(500),
    created_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    updated_at         TIMESTAMP WITH TIME ZONE NOT NULL,
    UNIQUE (account_id, request_nonce),
    UNIQUE (chain_id, from_address, chain_nonce)
);
CREATE INDEX payouts_status_idx ON payouts (status, created_at);
CREATE INDEX payouts_account_idx ON payouts (account_id, created_at);

-- The next chain nonce the payout sender will use for a treasury address on a chain (locked FOR UPDATE while a
-- payout is signed, so one nonce is never given to two transactions).
CREATE TABLE payout_chain_nonces (
    chain_id      BIGINT      NOT NULL,
    from_address  VARCHAR(42) NOT NULL,
    next_nonce    BIGINT      NOT NULL CHECK (next_nonce >= 0),
    PRIMARY KEY (chain_id, from_address)
);
