-- Defects found by review (issue 23, wt-defects, docs/security.md). Portable SQL: H2 2.x and PostgreSQL.

-- Every transaction signed for a payout: the first transfer, each gas-bumped replacement at the same nonce, and
-- a cancellation (a zero-value self-transfer at that nonce) after a bounded number of refused broadcasts. Any of
-- them may be the one mined, so a payout is failed (and refunded) only when its nonce was used and none of its
-- transfers has a receipt.
CREATE TABLE payout_transactions (
    tx_hash        VARCHAR(66)   PRIMARY KEY,
    payout_id      VARCHAR(64)   NOT NULL REFERENCES payouts (id),
    kind           VARCHAR(16)   NOT NULL CHECK (kind IN ('transfer', 'cancel')),
    gas_price_wei  BIGINT        NOT NULL CHECK (gas_price_wei >= 0),
    raw_tx         VARCHAR(4000) NOT NULL,
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX payout_transactions_payout_idx ON payout_transactions (payout_id, created_at);
-- the gas price of the current raw_tx, when it was signed, and how many broadcasts the node refused in a row
ALTER TABLE payouts ADD COLUMN gas_price_wei BIGINT;
ALTER TABLE payouts ADD COLUMN signed_at TIMESTAMP WITH TIME ZONE;
ALTER TABLE payouts ADD COLUMN broadcast_refusals INT DEFAULT 0 NOT NULL;

-- A change of a publisher's payout wallet (re-authenticated with the password) takes effect only after a delay,
-- announced by a notice, so a stolen portal session cannot redirect the next withdrawal (docs/security.md).
ALTER TABLE publishers ADD COLUMN pending_payout_address VARCHAR(42);
ALTER TABLE publishers ADD COLUMN pending_payout_effective_at TIMESTAMP WITH TIME ZONE;

-- Anonymous requests create webauthn challenges; expired ones are deleted as new ones are made (by expiry).
CREATE INDEX webauthn_challenges_expiry_idx ON webauthn_challenges (expires_at);
