package io.earnidle.backend.crash;

import java.io.IOException;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import io.earnidle.backend.payouts.Chain;

/**
 * The crash test's invariants, counted straight from the store (plain JDBC, after the instances stopped) and from
 * the chain: every job the customers were told about exists and ended completed, failed or queued again, none
 * completed twice; every accepted result credited exactly once; the ledger sums to zero; and every payout's
 * destination holds on chain exactly what the payouts table says was confirmed to it (each withdrawal goes to an
 * address of its own, so a transfer sent twice shows as a balance above it).
 */
record CrashCounts(Map<String, Long> jobsByStatus, long ackedJobs, long ackedJobsMissing, long requeued,
                   long completedWithoutResult, long resultsOnUnfinishedJobs, long jobsWithTwoResults,
                   long acceptedResults, long resultsCreditedOnce, long resultsNotCredited, long resultsCreditedTwice,
                   long creditsWithoutResult, long ledgerTransactions, long unbalancedTransactions,
                   long ledgerSum, long accountsOffTheirEntries, Map<String, Long> payoutsByStatus,
                   long ackedPayouts, long ackedPayoutsMissing, long paidOnChainAsRecorded, long paidMoreThanRecorded,
                   long paidLessThanRecorded, long treasuryOut, long confirmedTotal) {

    static CrashCounts read(String jdbcUrl, String user, Set<String> ackedJobIds, Set<String> ackedPayoutIds,
                            Chain chain, String token, String treasury, BigInteger treasuryStart)
            throws SQLException, IOException {
        try (Connection c = DriverManager.getConnection(jdbcUrl, user, "");
             Statement s = c.createStatement()) {
            Map<String, Long> jobs = groups(s, "SELECT status AS k, COUNT(*) AS n FROM jobs GROUP BY status");
            Set<String> jobIds = ids(s, "SELECT id FROM jobs");
            long missing = ackedJobIds.stream().filter(id -> !jobIds.contains(id)).count();
            long requeued = one(s, "SELECT COUNT(*) FROM jobs WHERE attempts > 1");
            long completedWithout = one(s, "SELECT COUNT(*) FROM jobs j WHERE j.status = 'completed'"
                    + " AND NOT EXISTS (SELECT 1 FROM job_results r WHERE r.job_id = j.id)");
            long resultsUnfinished = one(s, "SELECT COUNT(*) FROM job_results r JOIN jobs j ON j.id = r.job_id"
                    + " WHERE j.status <> 'completed'");
            long twice = one(s, "SELECT COUNT(*) FROM (SELECT job_id FROM job_results GROUP BY job_id"
                    + " HAVING COUNT(*) > 1) d");
            long results = one(s, "SELECT COUNT(*) FROM job_results");
            String credits = "(SELECT COUNT(*) FROM ledger_transactions t WHERE t.job_id = r.job_id"
                    + " AND t.kind = 'job_payout')";
            long once = one(s, "SELECT COUNT(*) FROM job_results r WHERE " + credits + " = 1");
            long none = one(s, "SELECT COUNT(*) FROM job_results r WHERE " + credits + " = 0");
            long more = one(s, "SELECT COUNT(*) FROM job_results r WHERE " + credits + " > 1");
            long orphan = one(s, "SELECT COUNT(*) FROM ledger_transactions t WHERE t.kind = 'job_payout'"
                    + " AND NOT EXISTS (SELECT 1 FROM job_results r WHERE r.job_id = t.job_id)");
            long txs = one(s, "SELECT COUNT(*) FROM ledger_transactions");
            long unbalanced = one(s, "SELECT COUNT(*) FROM (SELECT transaction_id FROM ledger_entries"
                    + " GROUP BY transaction_id HAVING SUM(amount_micro_usdc) <> 0) u");
            long sum = one(s, "SELECT COALESCE(SUM(amount_micro_usdc), 0) FROM ledger_entries");
            long off = one(s, "SELECT COUNT(*) FROM ledger_accounts a WHERE a.balance_micro_usdc <>"
                    + " COALESCE((SELECT SUM(e.amount_micro_usdc) FROM ledger_entries e"
                    + " WHERE e.account_id = a.id AND e.state = 'available'), 0)");
            Map<String, Long> payouts = groups(s, "SELECT status AS k, COUNT(*) AS n FROM payouts GROUP BY status");
            Set<String> payoutIds = ids(s, "SELECT id FROM payouts");
            long payoutsMissing = ackedPayoutIds.stream().filter(id -> !payoutIds.contains(id)).count();
            long asRecorded = 0;
            long more2 = 0;
            long less = 0;
            long confirmed = 0;
            try (ResultSet r = s.executeQuery("SELECT destination, SUM(CASE WHEN status = 'confirmed'"
                    + " THEN amount_micro_usdc ELSE 0 END) AS paid FROM payouts GROUP BY destination")) {
                while (r.next()) {
                    long recorded = r.getLong("paid");
                    long onChain = chain.tokenBalance(token, r.getString("destination")).longValueExact();
                    confirmed += recorded;
                    if (onChain == recorded) {
                        asRecorded++;
                    } else if (onChain > recorded) {
                        more2++;
                    } else {
                        less++;
                    }
                }
            }
            long treasuryOut = treasuryStart.subtract(chain.tokenBalance(token, treasury)).longValueExact();
            return new CrashCounts(jobs, ackedJobIds.size(), missing, requeued, completedWithout, resultsUnfinished,
                    twice, results, once, none, more, orphan, txs, unbalanced, sum, off, payouts,
                    ackedPayoutIds.size(), payoutsMissing, asRecorded, more2, less, treasuryOut, confirmed);
        }
    }

    /** The counts as the test prints them (docs/operations.md "Crash recovery" quotes this). */
    String report(String scenario) {
        return """
                crash test [%s]
                  jobs            %s; acknowledged to customers %d, missing %d; re-queued (attempts > 1) %d
                                  completed without a result %d, results on unfinished jobs %d, completed twice %d
                  credits         accepted results %d: credited once %d, not credited %d, twice %d; credits without a result %d
                  ledger          %d transactions, unbalanced %d; sum of all entries %d; accounts off their entries %d
                  payouts         %s; acknowledged %d, missing %d
                  on chain        destinations paid as recorded %d, more than recorded %d, less %d;
                                  treasury sent %d micro-USDC, confirmed payouts %d micro-USDC"""
                .formatted(scenario, jobsByStatus, ackedJobs, ackedJobsMissing, requeued, completedWithoutResult,
                        resultsOnUnfinishedJobs, jobsWithTwoResults, acceptedResults, resultsCreditedOnce,
                        resultsNotCredited, resultsCreditedTwice, creditsWithoutResult, ledgerTransactions,
                        unbalancedTransactions, ledgerSum, accountsOffTheirEntries, payoutsByStatus, ackedPayouts,
                        ackedPayoutsMissing, paidOnChainAsRecorded, paidMoreThanRecorded, paidLessThanRecorded,
                        treasuryOut, confirmedTotal);
    }

    private static long one(Statement s, String sql) throws SQLException {
        try (ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    private static Map<String, Long> groups(Statement s, String sql) throws SQLException {
        Map<String, Long> m = new TreeMap<>();
        try (ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                m.put(r.getString("k"), r.getLong("n"));
            }
        }
        return m;
    }

    private static Set<String> ids(Statement s, String sql) throws SQLException {
        Set<String> out = new HashSet<>();
        try (ResultSet r = s.executeQuery(sql)) {
            while (r.next()) {
                out.add(r.getString(1));
            }
        }
        return out;
    }
}
