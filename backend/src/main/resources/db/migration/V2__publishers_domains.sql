-- Publisher accounts, sessions, passkeys, DNS-verified domains and placement targeting (issue 5).
-- Portable SQL: H2 2.x (DATABASE_TO_LOWER=TRUE) and PostgreSQL.

-- Accounts. The seeded demo publisher has no e-mail and cannot sign in.
ALTER TABLE publishers ADD COLUMN email VARCHAR(254);
ALTER TABLE publishers ADD COLUMN password_hash VARCHAR(512);
ALTER TABLE publishers ADD COLUMN payout_address VARCHAR(42);
ALTER TABLE publishers ADD COLUMN payout_address_proved_at TIMESTAMP WITH TIME ZONE;
CREATE UNIQUE INDEX publishers_email_idx ON publishers (email);

-- Signed-in browser sessions: only the SHA-256 of the cookie value is stored. Signing out everywhere deletes them.
CREATE TABLE publisher_sessions (
    id             VARCHAR(64)  PRIMARY KEY,
    publisher_id   VARCHAR(64)  NOT NULL REFERENCES publishers (id),
    token_sha256   CHAR(64)     NOT NULL UNIQUE,
    csrf_token     VARCHAR(64)  NOT NULL,
    created_at     TIMESTAMP WITH TIME ZONE NOT NULL,
    expires_at     TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX publisher_sessions_publisher_idx ON publisher_sessions (publisher_id);

-- Failed sign-in attempts, for rate limiting (per e-mail and per client address).
CREATE TABLE login_failures (
    id          VARCHAR(64)  PRIMARY KEY,
    email       VARCHAR(254) NOT NULL,
    client      VARCHAR(64)  NOT NULL,
    created_at  TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX login_failures_email_idx ON login_failures (email, created_at);
CREATE INDEX login_failures_client_idx ON login_failures (client, created_at);

-- Passkeys (WebAuthn). credential_cbor is the base64 of the attested credential data (webauthn4j's encoding).
CREATE TABLE passkeys (
    id               VARCHAR(512) PRIMARY KEY,
    publisher_id     VARCHAR(64)  NOT NULL REFERENCES publishers (id),
    credential_cbor  VARCHAR(8000) NOT NULL,
    sign_count       BIGINT       NOT NULL,
    created_at       TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX passkeys_publisher_idx ON passkeys (publisher_id);

CREATE TABLE webauthn_challenges (
    id            VARCHAR(64)  PRIMARY KEY,
    publisher_id  VARCHAR(64)  REFERENCES publishers (id),
    purpose       VARCHAR(16)  NOT NULL CHECK (purpose IN ('register', 'signin', 'wallet')),
    challenge     VARCHAR(128) NOT NULL,
    expires_at    TIMESTAMP WITH TIME ZONE NOT NULL
);

-- Domains a publisher claims. At most one publisher holds a domain verified at a time: a fresh proof by another
-- publisher moves it ('lost' for the first, who gets a notice).
CREATE TABLE domains (
    id                  VARCHAR(64)  PRIMARY KEY,
    publisher_id        VARCHAR(64)  NOT NULL REFERENCES publishers (id),
    name                VARCHAR(253) NOT NULL,
    display_name        VARCHAR(253) NOT NULL,
    token               VARCHAR(64)  NOT NULL,
    include_subdomains  BOOLEAN      NOT NULL,
    status              VARCHAR(16)  NOT NULL CHECK (status IN ('pending', 'verified', 'failing', 'lost')),
    verified_at         TIMESTAMP WITH TIME ZONE,
    last_checked_at     TIMESTAMP WITH TIME ZONE,
    last_check_detail   VARCHAR(2000),
    created_at          TIMESTAMP WITH TIME ZONE NOT NULL,
    UNIQUE (publisher_id, name)
);
CREATE INDEX domains_name_idx ON domains (name, status);

CREATE TABLE publisher_notices (
    id            VARCHAR(64)   PRIMARY KEY,
    publisher_id  VARCHAR(64)   NOT NULL REFERENCES publishers (id),
    message       VARCHAR(2000) NOT NULL,
    created_at    TIMESTAMP WITH TIME ZONE NOT NULL
);
CREATE INDEX publisher_notices_publisher_idx ON publisher_notices (publisher_id, created_at);

-- Placement targeting: a page id, the domain (verified, or covered by a verified parent that includes
-- subdomains) and path prefix it runs on; config_origins are origins verified by configuration (demo only);
-- suspended_reason is set while its domain is not verified (a suspended placement is served as 'suspended').
ALTER TABLE placements ADD COLUMN page_id VARCHAR(64);
ALTER TABLE placements ADD COLUMN domain VARCHAR(253);
ALTER TABLE placements ADD COLUMN path_prefix VARCHAR(200);
ALTER TABLE placements ADD COLUMN config_origins VARCHAR(2000);
ALTER TABLE placements ADD COLUMN suspended_reason VARCHAR(500);
ALTER TABLE placements ADD COLUMN updated_at TIMESTAMP WITH TIME ZONE;
CREATE INDEX placements_publisher_idx ON placements (publisher_id);
CREATE INDEX placements_domain_idx ON placements (domain);
