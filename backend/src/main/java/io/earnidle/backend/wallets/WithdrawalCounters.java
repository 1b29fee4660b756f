package io.earnidle.backend.wallets;

import io.helidon.dbclient.DbExecute;

/**
 * The withdrawal figures a wallet's counters show ({@code in_flight_micro_usdc}, {@code next_withdraw_nonce}). They
 * are read from the payouts, which the payouts package owns ({@code Payouts.withdrawalCounters()}): wallets sits
 * below payouts and does not depend on it.
 */
public interface WithdrawalCounters {
    /** Micro-USDC the account asked to withdraw that is not yet confirmed or failed. */
    long inFlight(DbExecute exec, String accountId);

    /** The withdraw nonce the account's next request should use. */
    long nextNonce(DbExecute exec, String accountId);
}
