-- Per-token billing (issue 21, docs/api.md "Pricing"). Portable SQL: H2 2.x and PostgreSQL. Add-only.
-- jobs.price_micro_usdc stays the reservation: the price of max_tokens, counted against the customer's balance while
-- the job is queued or leased. The rates the job was priced with are fixed at submission (NULL: a job from before
-- this migration, or a platform job, priced with the current rate card); the charge is recorded on completion.
ALTER TABLE jobs ADD COLUMN rate_request_micro_usdc BIGINT;
ALTER TABLE jobs ADD COLUMN rate_input_micro_usdc BIGINT;
ALTER TABLE jobs ADD COLUMN rate_output_micro_usdc BIGINT;
ALTER TABLE jobs ADD COLUMN prompt_tokens INTEGER;
ALTER TABLE jobs ADD COLUMN completion_tokens INTEGER;
ALTER TABLE jobs ADD COLUMN charged_micro_usdc BIGINT;
-- a customer's cancel of a queued job: the job is 'failed' (never served, nothing charged) with this time set
ALTER TABLE jobs ADD COLUMN cancelled_at TIMESTAMP WITH TIME ZONE;
