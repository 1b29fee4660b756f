-- "The latest of a session" reads (issue 23). Portable SQL: H2 2.x and PostgreSQL.

-- rc-chain-head (a session's last receipt, read for every receipt) and lease-last-result-on-model (a session's last
-- result on a model, read for every lease) ask for the first row of a session in descending order. H2 read every row
-- the session ever had through the foreign key's index on session_id and sorted them, so each receipt and each lease
-- cost more the longer the session had worked. H2 reads an index in order (and stops at the first row) when the
-- ORDER BY names exactly that index's columns and directions, and it swaps the foreign key's index for it only when a
-- direction differs: hence session_id DESC in these keys and in both ORDER BY clauses.
CREATE INDEX receipts_session_recent_idx ON receipts (session_id DESC, seq DESC);
CREATE INDEX job_results_session_recent_idx ON job_results (session_id DESC, created_at DESC);

-- the same columns as job_results_session_recent_idx in the other direction (V20): one index less to write per result
DROP INDEX job_results_session_created_idx;
