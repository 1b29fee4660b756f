-- Cluster mode (issue 23, wt-cluster, docs/operations.md "Cluster mode"). Portable SQL: H2 2.x and PostgreSQL.

-- One row per background job. The backend instance named in holder runs that job until expires_at; it renews
-- the row well before then, and any other instance takes it over (a conditional update) once it has expired.
-- An instance that stops hands its rows back at once (expires_at set to the past).
CREATE TABLE cluster_leaders (
    role        VARCHAR(64)  PRIMARY KEY,
    holder      VARCHAR(128),
    expires_at  TIMESTAMP WITH TIME ZONE NOT NULL,
    renewed_at  TIMESTAMP WITH TIME ZONE
);
INSERT INTO cluster_leaders (role, holder, expires_at) VALUES
    ('lease-watchdog', NULL, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00'),
    ('verification', NULL, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00'),
    ('payouts', NULL, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00'),
    ('deposits', NULL, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00'),
    ('domain-recheck', NULL, TIMESTAMP WITH TIME ZONE '1970-01-01 00:00:00+00');
