-- Customer accounts and API keys (issue 21, docs/api.md "Accounts and API keys").
-- Portable SQL: H2 2.x (DATABASE_TO_LOWER=TRUE) and PostgreSQL.

-- API keys: a customer holds any number; only the SHA-256 of the secret is stored (the secret is shown once).
-- prefix is the secret's first characters, shown in lists so that a key can be recognised; revoked keys stay listed.
CREATE TABLE api_keys (
    id           VARCHAR(64)  PRIMARY KEY,
    customer_id  VARCHAR(64)  NOT NULL REFERENCES customers (id),
    name         VARCHAR(100) NOT NULL,
    prefix       VARCHAR(32)  NOT NULL,
    key_sha256   CHAR(64)     NOT NULL UNIQUE,
    created_at   TIMESTAMP WITH TIME ZONE NOT NULL,
    revoked_at   TIMESTAMP WITH TIME ZONE
);
CREATE INDEX api_keys_customer_idx ON api_keys (customer_id, created_at);

-- The existing customers' one key moves here (its secret is unknown, so its prefix is empty); from now on
-- customers.api_key_sha256 is no longer read, and new customers leave it empty. The platform's own customers
-- (benchmarks, checks) hold no usable key and get none.
INSERT INTO api_keys (id, customer_id, name, prefix, key_sha256, created_at)
    SELECT 'key_' || id, id, 'migrated key', '', api_key_sha256, created_at FROM customers
    WHERE id NOT IN ('platform-benchmark', 'earnidle-checks');
ALTER TABLE customers ALTER COLUMN api_key_sha256 DROP NOT NULL;

-- A customer account signed in through the portal: the portal account (sign-in stack of the publishers) owning it.
ALTER TABLE customers ADD COLUMN account_id VARCHAR(64) REFERENCES publishers (id);
CREATE UNIQUE INDEX customers_account_idx ON customers (account_id);

-- Which key submitted a job (NULL for the platform's own jobs and jobs from before this migration).
ALTER TABLE jobs ADD COLUMN api_key_id VARCHAR(64) REFERENCES api_keys (id);
CREATE INDEX jobs_api_key_idx ON jobs (api_key_id);
