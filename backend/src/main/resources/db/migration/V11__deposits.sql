-- Customer deposits (issue 21, wt-deposit: backend/.../deposits, docs/api.md "Deposits"): wallets a customer proved
-- with SIWE, USDC transfers to the treasury seen on chain, the watcher's cursor, and audited manual credits.
-- Portable SQL: H2 2.x (DATABASE_TO_LOWER=TRUE) and PostgreSQL. Credits are ledger transactions of kind 'deposit'
-- from external:deposits, referencing the deposit or manual credit id.

-- A wallet proved by a customer (SIWE, authenticated by the customer's API key). One customer per wallet: a transfer
-- from it is that customer's deposit.
CREATE TABLE customer_wallets (
    address      VARCHAR(42) PRIMARY KEY REFERENCES wallets (address),
    customer_id  VARCHAR(64) NOT NULL REFERENCES customers (id),
    proved_at    TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX customer_wallets_customer_idx ON customer_wallets (customer_id);

-- How far the deposit watcher has scanned (per chain, token and treasury): every block below next_block was scanned
-- once it had the configured confirmations; last_block_hash is the hash of block next_block - 1 as scanned (a
-- different hash there later means a reorganisation deeper than the confirmation depth: the watcher stops).
CREATE TABLE deposit_cursors (
    chain_id          BIGINT      NOT NULL,
    token_address     VARCHAR(42) NOT NULL,
    treasury_address  VARCHAR(42) NOT NULL,
    next_block        BIGINT      NOT NULL CHECK (next_block >= 0),
    last_block_hash   VARCHAR(66),
    updated_at        TIMESTAMP WITH TIME ZONE NOT NULL,
    PRIMARY KEY (chain_id, token_address, treasury_address)
);

-- One ERC-20 Transfer log to the treasury, recorded once (UNIQUE chain, token, tx hash, log index). status:
-- credited (from a proved wallet: ledger_transaction_id is the credit) or unmatched (from a wallet no customer has
-- proved, or an amount too large: nothing credited; an operator may credit it by hand).
CREATE TABLE deposits (
    id                     VARCHAR(64)  PRIMARY KEY,
    chain_id               BIGINT       NOT NULL,
    token_address          VARCHAR(42)  NOT NULL,
    tx_hash                VARCHAR(66)  NOT NULL,
    log_index              BIGINT       NOT NULL,
    block_number           BIGINT       NOT NULL,
    block_hash             VARCHAR(66)  NOT NULL,
    from_address           VARCHAR(42)  NOT NULL,
    amount_units           VARCHAR(80)  NOT NULL,
    amount_micro_usdc      BIGINT,
    customer_id            VARCHAR(64)  REFERENCES customers (id),
    status                 VARCHAR(16)  NOT NULL CHECK (status IN ('credited', 'unmatched')),
    ledger_transaction_id  VARCHAR(64),
    created_at             TIMESTAMP WITH TIME ZONE NOT NULL,
    UNIQUE (chain_id, token_address, tx_hash, log_index)
);
CREATE INDEX deposits_customer_idx ON deposits (customer_id, created_at);

-- Manual top-ups by an operator (./earnidle customer credit): who, why, how much, and the ledger transaction.
CREATE TABLE manual_credits (
    id                     VARCHAR(64)   PRIMARY KEY,
    customer_id            VARCHAR(64)   NOT NULL REFERENCES customers (id),
    amount_micro_usdc      BIGINT        NOT NULL CHECK (amount_micro_usdc > 0),
    operator               VARCHAR(200)  NOT NULL,
    reason                 VARCHAR(1000) NOT NULL,
    ledger_transaction_id  VARCHAR(64)   NOT NULL,
    created_at             TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX manual_credits_customer_idx ON manual_credits (customer_id, created_at);
