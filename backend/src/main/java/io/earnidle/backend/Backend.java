package io.earnidle.backend;

import java.time.Clock;
import java.time.Duration;

import io.earnidle.backend.capability.Capability;
import io.earnidle.backend.capability.CapabilityService;
import io.earnidle.backend.capability.CapabilitySettings;
import io.earnidle.backend.capability.Reputation;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.demo.Seeder;
import io.earnidle.backend.http.ProblemHandler;
import io.earnidle.backend.http.UnknownApiService;
import io.earnidle.backend.inference.InferenceService;
import io.earnidle.backend.jobs.JobService;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.verification.TrustSettings;
import io.earnidle.backend.verification.VerificationQueue;
import io.earnidle.backend.models.ModelFileService;
import io.earnidle.backend.models.ModelService;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.nodes.NodeService;
import io.earnidle.backend.nodes.NodeSessions;
import io.earnidle.backend.payouts.PayoutModule;
import io.earnidle.backend.placements.PlacementService;
import io.earnidle.backend.placements.WidgetPageService;
import io.earnidle.backend.publishers.Publishers;
import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.staticcontent.StaticContentService;

/**
 * The application without the web server: database (migrated and seeded), services and routing. Used by
 * {@link EarnIdleServer} and by the tests' {@code @SetUpRoute}.
 */
public final class Backend implements AutoCloseable {
    private final Settings settings;
    private final Database db;
    private final Ledger ledger;
    private final Models models;
    private final NodeSessions sessions;
    private final Publishers publishers;
    private final PayoutModule payoutModule; // wallets and payouts (issue 6)
    private final VerificationQueue verification; // pay only for verified work (issue 19)
    private final Capability capability; // measured capability, timing plausibility, dispatch (issue 19)

    private Backend(Settings settings, Database db, Ledger ledger, Models models, Publishers publishers,
                    PayoutModule payoutModule, VerificationQueue verification, Capability capability) {
        this.settings = settings;
        this.db = db;
        this.ledger = ledger;
        this.models = models;
        this.sessions = new NodeSessions(db);
        this.publishers = publishers;
        this.payoutModule = payoutModule;
        this.verification = verification;
        this.capability = capability;
    }

    /**
     * Opens the database, migrates and seeds it (demo data and the synthetic model).
     *
     * @param config root config (with {@code earnidle} and {@code db})
     * @param clock  the clock for leases, timestamps and the verification window
     */
    public static Backend create(Config config, Clock clock) {
        Settings settings = Settings.from(config.get("earnidle"));
        Database db = Database.open(config.get("db"), settings);
        try {
            Ledger ledger = new Ledger(clock, Duration.ofSeconds(settings.verificationWindowSeconds()));
            Seeder.seed(db, ledger, settings);
            Models models = new Models(db, settings.modelsDir());
            models.ensureSyntheticTiny(ledger.now());
            Publishers publishers = Publishers.create(config.get("earnidle"), db, ledger, settings.maxBodyBytes());
            VerificationQueue verification = new VerificationQueue(
                    TrustSettings.from(config.get("earnidle.trust")), db, ledger, models);
            Backend backend = new Backend(settings, db, ledger, models, publishers,
                    PayoutModule.create(config.get("earnidle"), db, ledger, settings.maxBodyBytes()), verification,
                    new Capability(CapabilitySettings.from(config.get("earnidle.capability")), db, models,
                            Reputation.NEUTRAL));
            verification.start();
            return backend;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /**
     * Mounts every service on its path, then the {@code /api} 404 fallback and the static web files at {@code /}.
     * Errors of all of them become problem+json through the one {@link ProblemHandler}.
     */
    public void routing(HttpRouting.Builder routing) {
        routing.error(Exception.class, new ProblemHandler())
                .register("/api/publisher", publishers.accounts(), publishers.passkeys())
                .register("/api/publisher/domains", publishers.domains())
                .register("/api/publisher/placements", publishers.placements())
                .register("/api/publisher/dashboard", publishers.dashboard())
                .register("/api/publisher/payout-wallet", publishers.payoutWallet())
                .register("/api/publisher/withdrawals", publishers.withdrawals(payoutModule.payouts()))
                .register("/api/placements", new PlacementService(db))
                .register("/widget", new WidgetPageService(db)) // the widget page with its frame-ancestors policy
                .register("/api/nodes", new NodeService(settings, db, ledger, sessions, capability),
                        new CapabilityService(capability, sessions, ledger, settings.maxBodyBytes()))
                .register("/api/inference", new InferenceService(settings, db, ledger, models, sessions,
                        verification, capability))
                .register("/api/jobs", new JobService(settings, db, ledger, models))
                .register("/api/models", new ModelService(models))
                .register("/models", new ModelFileService(db, models))
                .register("/api/wallets", payoutModule.walletService())
                .register("/api/payouts", payoutModule.payoutService())
                .register("/api", new UnknownApiService())
                .register("/", StaticContentService.builder("web")
                        .welcomeFileName("index.html")
                        // welcome files inside jars (web/demo/, web/portal/ ...) are not found by Helidon 4.1.7
                        // itself, so a path ending in / is mapped to its index.html here
                        .pathMapper(path -> path.isEmpty() || path.endsWith("/") ? path + "index.html" : path)
                        .build());
    }

    public Database database() {
        return db;
    }

    public Ledger ledger() {
        return ledger;
    }

    public PayoutModule payouts() {
        return payoutModule;
    }

    public VerificationQueue verification() {
        return verification;
    }

    @Override
    public void close() {
        verification.close();
        payoutModule.close();
        publishers.close();
        db.close();
    }
}
