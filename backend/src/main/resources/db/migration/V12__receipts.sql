-- Signed receipts (issue 22, wt-receipts; docs/receipts.md). Portable SQL: H2 2.x (DATABASE_TO_LOWER=TRUE) and
-- PostgreSQL.

-- The public halves of the Ed25519 keys that sign receipts, with their validity periods (published as a JWKS at
-- /.well-known/earnidle-receipt-keys.json). The private halves are files of the backend, never in the database.
CREATE TABLE receipt_keys (
    kid         VARCHAR(64) PRIMARY KEY,            -- RFC 7638 JWK thumbprint (base64url SHA-256)
    x           VARCHAR(64) NOT NULL,               -- the 32-byte public key, base64url
    not_before  TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at  TIMESTAMP WITH TIME ZONE,           -- NULL until a rotation ends the key's period
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Receipts, never updated: body_json is the receipt's RFC 8785 (JCS) text exactly as signed, sha256 its hash (what
-- the next receipt of the session names as prev), seq its place in the session's chain (1, 2, ...).
CREATE TABLE receipts (
    id          VARCHAR(64)   PRIMARY KEY,
    session_id  VARCHAR(64)   NOT NULL REFERENCES node_sessions (id),
    seq         BIGINT        NOT NULL CHECK (seq > 0),
    job_id      VARCHAR(64)   NOT NULL REFERENCES jobs (id),
    kind        VARCHAR(16)   NOT NULL CHECK (kind IN ('result', 'verification', 'reversal')),
    body_json   VARCHAR(8000) NOT NULL,
    sha256      CHAR(64)      NOT NULL,
    kid         VARCHAR(64)   NOT NULL REFERENCES receipt_keys (kid),
    signature   VARCHAR(128)  NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    UNIQUE (session_id, seq)
);
CREATE INDEX receipts_job_idx ON receipts (job_id, session_id, kind);
