-- Indexes of the node poll path GET /api/inference/job (issue 23, wt-poll). Portable SQL: H2 2.x and PostgreSQL.

-- capability.Dispatch's live rivals (cap-rivals: sessions seen within live-seconds, newest first)
CREATE INDEX node_sessions_seen_idx ON node_sessions (last_seen_at);
-- a session's measured and failed capabilities (cap-rivals' subqueries, cap-capabilities)
CREATE INDEX node_capabilities_status_idx ON node_capabilities (session_id, status);
-- a session's latest results (leases.ReportedCapability's last result on a model, capability's verified results)
CREATE INDEX job_results_session_created_idx ON job_results (session_id, created_at);
-- a session's unexpired leases (session-active-leases for the lease cap, cap-rivals' idle test): without the expiry
-- in the key, H2 picks jobs_lease_expiry_idx and reads every unexpired lease of every session
CREATE INDEX jobs_leased_to_expiry_idx ON jobs (leased_to, status, lease_expires_at);
