package io.earnidle.backend;

import java.time.Clock;
import java.time.Duration;

import io.earnidle.backend.billing.KeyLimits;
import io.earnidle.backend.billing.RateCounters;
import io.earnidle.backend.billing.RateService;
import io.earnidle.backend.cluster.SharedRateCounters;
import io.earnidle.backend.canary.Canaries;
import io.earnidle.backend.canary.PlatformJobs;
import io.earnidle.backend.capability.Capability;
import io.earnidle.backend.capability.CapabilityService;
import io.earnidle.backend.capability.CapabilitySettings;
import io.earnidle.backend.cascade.Cascade;
import io.earnidle.backend.cluster.ClusterSettings;
import io.earnidle.backend.cluster.Leadership;
import io.earnidle.backend.customers.CustomerService;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.demo.Deployment;
import io.earnidle.backend.demo.Seeder;
import io.earnidle.backend.deposits.DepositModule;
import io.earnidle.backend.http.HealthService;
import io.earnidle.backend.http.DurableResponses;
import io.earnidle.backend.http.ProblemHandler;
import io.earnidle.backend.http.SecurityHeaders;
import io.earnidle.backend.http.UnknownApiService;
import io.earnidle.backend.inference.InferenceService;
import io.earnidle.backend.inference.PollAdmission;
import io.earnidle.backend.jobs.JobService;
import io.earnidle.backend.jobs.Jobs;
import io.earnidle.backend.leases.LeaseService;
import io.earnidle.backend.leases.LeaseSettings;
import io.earnidle.backend.leases.LeaseWatchdog;
import io.earnidle.backend.leases.Leases;
import io.earnidle.backend.leases.RegistrationLimit;
import io.earnidle.backend.leases.ReportedCapability;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.openai.OpenAiApi;
import io.earnidle.backend.openai.OpenAiSettings;
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
import io.earnidle.backend.receipts.ReceiptService;
import io.earnidle.backend.receipts.Receipts;
import io.earnidle.backend.reputation.CheatPenalty;
import io.earnidle.backend.reputation.Reputation;
import io.earnidle.backend.reputation.ReputationSettings;
import io.earnidle.backend.reputation.TrustChecks;
import io.earnidle.backend.reputation.TrustPolicy;
import io.earnidle.backend.settings.Settings;
import io.earnidle.backend.stats.NetworkStats;
import io.earnidle.backend.stats.StatsService;
import io.earnidle.backend.stats.StatsSettings;
import io.earnidle.backend.workers.WorkerCards;
import io.earnidle.backend.workers.Workers;
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
    private final Jobs jobs; // customers' jobs and API keys: /api/jobs, deposits and receipts share the one
    private final Publishers publishers;
    private final PayoutModule payoutModule; // wallets and payouts (issue 6)
    private final VerificationQueue verification; // pay only for verified work (issue 19)
    private final Leases leases; // leases that fit the job (issue 19)
    private LeaseWatchdog leaseWatchdog;
    private final OpenAiApi openai; // the OpenAI-compatible /v1 API (issue 20)
    private final Reputation reputation; // reputation, tiers, canaries (issue 19, docs/trust.md)
    private final Canaries canaries;
    private final Capability capability; // measured capability, timing plausibility, dispatch (issue 19)
    private final PollAdmission polls; // the bound on node polls in flight (issue 23)
    private DepositModule deposits; // customer deposits and manual credits (issue 21)
    private NetworkStats stats; // public network statistics (issue 22)
    private Cascade cascade; // jobs no node starts in time go to the next tier (issue 21)
    private Leadership leadership; // which background jobs this instance runs (cluster mode, issue 23)

    private Backend(Settings settings, Database db, Ledger ledger, Models models, Publishers publishers,
                    PayoutModule payoutModule, VerificationQueue verification, Leases leases, OpenAiApi openai,
                    Reputation reputation, Canaries canaries, Capability capability) {
        this.settings = settings;
        this.db = db;
        this.ledger = ledger;
        this.models = models;
        this.sessions = new NodeSessions(db, leases.settings().sessionMaxAge());
        this.jobs = new Jobs(settings, db, ledger);
        this.publishers = publishers;
        this.payoutModule = payoutModule;
        this.verification = verification;
        this.leases = leases;
        this.openai = openai;
        this.reputation = reputation;
        this.canaries = canaries;
        this.capability = capability;
        // a busy session that stops polling is forgotten once its longest lease would have run out
        this.polls = new PollAdmission(leases.settings().pollsInFlight(db.poolSize()),
                leases.settings().maxTotalSeconds() * 1000);
    }

    /**
     * Opens the database, migrates and seeds it (demo data and the synthetic model).
     *
     * @param config root config (with {@code earnidle} and {@code db})
     * @param clock  the clock for leases, timestamps and the verification window
     */
    public static Backend create(Config config, Clock clock) {
        Settings settings = Settings.from(config.get("earnidle"));
        Deployment deployment = Deployment.from(config.get("earnidle"));
        deployment.checkSettings(config.get("earnidle"));
        Database db = Database.open(config.get("db"), settings);
        Leadership leadership = null;
        try {
            leadership = Leadership.create(ClusterSettings.from(config.get("earnidle.cluster")),
                    config.get("db.connection.url").asString().orElse("jdbc:h2:"), db, clock);
            leadership.start();
            RateCounters sharedLimits = SharedRateCounters.forCluster(leadership.clustered(), db); // wt-harden
            Ledger ledger = new Ledger(clock, Duration.ofSeconds(settings.verificationWindowSeconds()));
            deployment.checkNoDemoData(db, settings.demoCustomerApiKey());
            Seeder.seed(db, ledger, settings, deployment);
            Models models = new Models(db, settings.modelsDir());
            models.ensureSyntheticTiny(ledger.now());
            Publishers publishers = Publishers.create(config.get("earnidle"), db, ledger, settings.maxBodyBytes(),
                    leadership.role(Leadership.DOMAIN_RECHECK), sharedLimits);
            TrustSettings trust = TrustSettings.from(config.get("earnidle.trust"));
            Receipts receipts = Receipts.create(config.get("earnidle.receipts"), settings.dataDir(), db, ledger);
            VerificationQueue verification = new VerificationQueue(trust, db, ledger, models, receipts);
            PlatformJobs.ensure(db, ledger);
            Config trustConfig = config.get("earnidle.trust");
            ReputationSettings repSettings = ReputationSettings.from(trustConfig);
            Reputation reputation = new Reputation(repSettings);
            Canaries canaries = new Canaries(repSettings.checkJobsEnabled() ? Canaries.rate(trustConfig) : 0,
                    settings, db, ledger, models, verification);
            Capability capability = new Capability(CapabilitySettings.from(config.get("earnidle.capability")), db,
                    models, reputation::score);
            verification.checks(new TrustChecks(reputation, canaries, new CheatPenalty(ledger, verification, receipts), db,
                    ledger, capability::verified));
            LeaseSettings leaseSettings = LeaseSettings.from(config.get("earnidle.leases"));
            OpenAiSettings openAiSettings = OpenAiSettings.from(config.get("earnidle.openai"));
            TrustPolicy policy = new TrustPolicy(reputation);
            Leases leases = new Leases(leaseSettings, trust.maxAttempts(), db, ledger, models,
                    new ReportedCapability(leaseSettings), (sessionId, at) -> policy.leaseExpired(db, sessionId, at));
            Backend backend = new Backend(settings, db, ledger, models, publishers,
                    PayoutModule.create(config.get("earnidle"), db, ledger, settings.maxBodyBytes(),
                            leadership.role(Leadership.PAYOUTS)), verification,
                    leases, new OpenAiApi(settings, openAiSettings, db, ledger, models, leases::partialText,
                            KeyLimits.from(config.get("earnidle.limits.per-key"), openAiSettings.requestsPerMinute(),
                                    ledger::now, sharedLimits)), reputation, canaries, capability);
            backend.deposits = DepositModule.create(config.get("earnidle"), db, ledger,
                    backend.payoutModule.walletService(), backend.jobs::customerOfKey,
                    settings.maxBodyBytes(), leadership.role(Leadership.DEPOSITS));
            backend.stats = new NetworkStats(StatsSettings.from(config.get("earnidle.stats")), db, ledger, reputation);
            backend.cascade = Cascade.create(config.get("earnidle.cascade"), db, ledger, models, settings.rateCard());
            backend.leadership = leadership;
            backend.leaseWatchdog = new LeaseWatchdog(leases, leaseSettings.watchdogIntervalMs(),
                    leadership.role(Leadership.LEASE_WATCHDOG));
            verification.leader(leadership.role(Leadership.VERIFICATION));
            verification.start();
            backend.leaseWatchdog.start();
            return backend;
        } catch (RuntimeException e) {
            if (leadership != null) {
                leadership.close();
            }
            db.close();
            throw e;
        }
    }

    /**
     * Mounts every service on its path, then the {@code /api} 404 fallback and the static web files at {@code /}.
     * Errors of all of them become problem+json through the one {@link ProblemHandler}.
     */
    public void routing(HttpRouting.Builder routing) {
        routing.addFilter(SecurityHeaders::filter) // CSP and frame-ancestors on the portal and demo pages
                .addFilter((chain, req, res) -> DurableResponses.filter(db::forgetWrites, db::awaitDurableIfWritten,
                        chain, req, res))
                .error(Exception.class, new ProblemHandler())
                .register("/api/publisher", publishers.accounts(), publishers.passkeys())
                .register("/api/publisher/domains", publishers.domains())
                .register("/api/publisher/placements", publishers.placements())
                .register("/api/publisher/dashboard", publishers.dashboard())
                .register("/api/publisher/payout-wallet", publishers.payoutWallet())
                .register("/api/publisher/withdrawals", publishers.withdrawals(payoutModule.payouts()))
                .register("/api/customer", new CustomerService(db, ledger, publishers.sessions(), settings.maxBodyBytes()))
                .register("/api/placements", new PlacementService(db))
                .register("/widget", new WidgetPageService(db)) // the widget page with its frame-ancestors policy
                .register("/api/nodes", new NodeService(settings, db, ledger, sessions,
                        new RegistrationLimit(leases.settings()), reputation, capability, publishers.clientAddresses()),
                        new CapabilityService(capability, sessions, ledger, settings.maxBodyBytes()))
                .register("/api/inference", new InferenceService(settings, db, ledger, models, sessions,
                        verification, leases, new TrustPolicy(reputation), canaries, capability,
                        verification.receipts(), polls),
                        new LeaseService(leases, req -> sessions.authenticateLeaseHolder(req, ledger.now()).id(),
                                settings.maxBodyBytes()))
                .register("/api/jobs", new JobService(jobs, models, openai.limits()))
                .register("/api/rates", new RateService(settings.rateCard()))
                .register("/api/models", new ModelService(models))
                .register("/models", new ModelFileService(db, models))
                .register("/api/wallets", payoutModule.walletService())
                .register("/api/payouts", payoutModule.payoutService())
                .register("/api/deposits", deposits.service())
                .register("/api/stats", new StatsService(stats))
                .register("/api/health", new HealthService()) // trivial in-memory endpoint (docs/benchmarks.md)
                .register("/", new ReceiptService(db, jobs::customerOfKey)); // issue 22
        openai.register(routing); // /v1: errors in OpenAI's shape, not problem+json
        Workers.register(routing, new WorkerCards(db, ledger, reputation)); // worker cards and badges (issue 22)
        routing.register("/api", new UnknownApiService())
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

    public DepositModule deposits() {
        return deposits;
    }

    /** The bound on node polls in flight, and how many are running or waiting now. */
    public PollAdmission polls() {
        return polls;
    }

    public Leases leases() {
        return leases;
    }

    public Reputation reputation() {
        return reputation;
    }

    public Leadership leadership() {
        return leadership;
    }

    public Canaries canaries() {
        return canaries;
    }

    public Cascade cascade() {
        return cascade;
    }

    @Override
    public void close() {
        if (cascade != null) {
            cascade.close();
        }
        leaseWatchdog.close();
        verification.close();
        payoutModule.close();
        if (deposits != null) {
            deposits.close();
        }
        publishers.close();
        leadership.close(); // after the background jobs stopped: another instance takes them over at once
        db.close();
    }
}
