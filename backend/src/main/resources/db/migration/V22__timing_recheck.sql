-- A result on the benchmark model more than plausibility.capability-factor x faster than its engine's measured
-- capability is held for a new benchmark instead of failing at once (docs/trust.md "Timing plausibility"): the
-- reason it would have failed for, and until when the verifier waits for the new benchmark to settle it.
ALTER TABLE job_results ADD COLUMN timing_recheck VARCHAR(1000);
ALTER TABLE job_results ADD COLUMN timing_recheck_until TIMESTAMP WITH TIME ZONE;
