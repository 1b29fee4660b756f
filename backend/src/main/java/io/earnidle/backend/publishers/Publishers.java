package io.earnidle.backend.publishers;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import io.earnidle.backend.auth.AuthService;
import io.earnidle.backend.auth.HashingGate;
import io.earnidle.backend.auth.PasskeyService;
import io.earnidle.backend.auth.PasswordHasher;
import io.earnidle.backend.auth.PublisherSessions;
import io.earnidle.backend.background.BackgroundLoop;
import io.earnidle.backend.billing.RateCounters;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.demo.Seeder;
import io.earnidle.backend.domains.DomainService;
import io.earnidle.backend.domains.DomainVerifier;
import io.earnidle.backend.domains.TxtResolver;
import io.earnidle.backend.http.ClientAddresses;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.payouts.Payouts;
import io.earnidle.backend.placements.PublisherPlacementService;
import io.earnidle.backend.settings.PublisherSettings;
import io.helidon.config.Config;
import io.helidon.webserver.http.HttpService;

/**
 * The publisher side, wired together: sessions, the password hasher and the DNS verifier with its periodic
 * re-checks are shared by the publisher services made here (accounts, passkeys, domains, placements, dashboard,
 * payout wallet, withdrawals); {@code Backend.routing} mounts each on its path.
 */
public final class Publishers implements AutoCloseable {

    private final Database db;
    private final Ledger ledger;
    private final PublisherSettings settings;
    private final int maxBodyBytes;
    private final PublisherSessions sessions;
    private final PasswordHasher hasher;
    private final ClientAddresses clients;
    private final DomainVerifier verifier;
    private final BackgroundLoop recheck;
    private final BooleanSupplier recheckLeader;

    private final RateCounters sharedLimits;

    private Publishers(Config earnidle, Database db, Ledger ledger, int maxBodyBytes, BooleanSupplier recheckLeader,
                       RateCounters sharedLimits) {
        this.sharedLimits = sharedLimits;
        this.db = db;
        this.recheckLeader = recheckLeader;
        this.ledger = ledger;
        this.settings = PublisherSettings.from(earnidle);
        this.maxBodyBytes = maxBodyBytes;
        this.sessions = new PublisherSessions(db, ledger, settings.sessionLifetime());
        this.hasher = new PasswordHasher(settings.argon2MemoryKb(), settings.argon2Iterations(),
                new HashingGate(settings.argon2MaxConcurrent(), settings.argon2MaxWaiting()));
        this.clients = ClientAddresses.from(earnidle);
        this.verifier = new DomainVerifier(db, ledger, TxtResolver.create(settings.dnsResolver(), settings.dnsTimeout()));
        if (settings.recheckInterval().isZero()) {
            this.recheck = null;
        } else {
            this.recheck = BackgroundLoop.every(settings.recheckInterval()).named("earnidle-domain-recheck")
                    .whileLeading(recheckLeader).stopping(BackgroundLoop.Stop.INTERRUPT, Duration.ofSeconds(5))
                    .start(verifier::recheckAll);
        }
    }

    /**
     * Seeds the demo placement's configured origins, then starts the periodic domain re-check, whose rounds run only
     * while {@code recheckLeader} (cluster mode: docs/operations.md).
     */
    public static Publishers create(Config earnidle, Database db, Ledger ledger, int maxBodyBytes,
                                    BooleanSupplier recheckLeader, RateCounters sharedLimits) {
        PublisherSettings s = PublisherSettings.from(earnidle);
        // demo only: loopback names cannot be DNS-verified, so the demo placement's origins come from configuration
        db.execute().namedUpdate("placement-set-config-origins", String.join(" ", s.demoVerifiedOrigins()),
                Seeder.DEMO_PLACEMENT);
        return new Publishers(earnidle, db, ledger, maxBodyBytes, recheckLeader, sharedLimits);
    }

    /** The portal's signed-in sessions (customer pages sign in through the same accounts). */
    public PublisherSessions sessions() {
        return sessions;
    }

    /** Sign-up, sign-in and sign-out, {@code me}: mounted at {@code /api/publisher}. */
    public HttpService accounts() {
        return new AuthService(db, ledger, sessions, hasher, settings, maxBodyBytes, clients, sharedLimits);
    }

    /** Who a request came from, for per-client limits ({@code earnidle.trusted-proxies}). */
    public ClientAddresses clientAddresses() {
        return clients;
    }

    /** Passkey registration and sign-in: mounted at {@code /api/publisher}. */
    public HttpService passkeys() {
        return new PasskeyService(db, ledger, sessions, maxBodyBytes);
    }

    public HttpService domains() {
        return new DomainService(db, ledger, sessions, verifier, settings, maxBodyBytes);
    }

    public HttpService placements() {
        return new PublisherPlacementService(db, ledger, sessions, settings, maxBodyBytes);
    }

    public HttpService dashboard() {
        return new DashboardService(db, ledger, sessions, settings);
    }

    public HttpService payoutWallet() {
        return new PayoutWalletService(db, ledger, sessions, maxBodyBytes, hasher, settings);
    }

    /** The publisher withdrawals, which need the payout module. */
    public HttpService withdrawals(Payouts payouts) {
        return new WithdrawalService(db, ledger, sessions, payouts, maxBodyBytes);
    }

    @Override
    public void close() {
        if (recheck != null) {
            recheck.close();
        }
    }
}
