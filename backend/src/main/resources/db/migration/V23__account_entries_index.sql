-- Reads of one account's ledger entries (issue 23). Portable SQL: H2 2.x and PostgreSQL.

-- pending-sum, due-pending-entries and ledger-unsettled-view select one account's pending entries. With the key
-- (account_id, state), H2 read them through the foreign key's index on account_id instead: every entry the account
-- ever had, so each job submission read all of its customer's past debits. The due time and the amount in the key
-- make this index the cheaper one for H2, and the sum of pending amounts is read from the index alone.
DROP INDEX ledger_entries_account_idx;
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, state, available_at, amount_micro_usdc);

-- a prefix of jobs_leased_to_expiry_idx (leased_to, status, lease_expires_at): one index less to write per job change
DROP INDEX jobs_leased_to_idx;
