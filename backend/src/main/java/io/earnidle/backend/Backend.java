package io.earnidle.backend;

import java.time.Clock;
import java.time.Duration;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.db.Seeder;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.inference.InferenceService;
import io.earnidle.backend.jobs.JobService;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.models.ModelService;
import io.earnidle.backend.models.Models;
import io.earnidle.backend.nodes.NodeService;
import io.earnidle.backend.nodes.NodeSessions;
import io.earnidle.backend.payouts.PayoutModule;
import io.earnidle.backend.publishers.Publishers;
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
    private PayoutModule payoutModule; // wallets and payouts (issue 6), set once by create()
    private final Publishers publishers;

    private Backend(Settings settings, Database db, Ledger ledger, Models models, Publishers publishers) {
        this.settings = settings;
        this.db = db;
        this.ledger = ledger;
        this.models = models;
        this.publishers = publishers;
        this.sessions = new NodeSessions(db);
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
            Backend backend = new Backend(settings, db, ledger, models, publishers);
            backend.payoutModule = PayoutModule.create(config.get("earnidle"), db, ledger, settings.maxBodyBytes());
            return backend;
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** Registers all routes: the API services, the /api 404 fallback, then the static web files at /. */
    public void routing(HttpRouting.Builder routing) {
        Json.problemHandlers(routing);
        publishers.routing(routing); // publisher API, placements, /widget/ with its frame-ancestors policy
        routing.register(publishers.withdrawals(payoutModule.payouts())); // publisher withdrawals (issue 6)
        routing.register(new NodeService(settings, db, ledger, sessions))
                .register(new InferenceService(settings, db, ledger, models, sessions))
                .register(new JobService(settings, db, ledger, models))
                .register(new ModelService(db, models))
                .update(payoutModule::routing)
                .any("/api", (req, res) -> {
                    throw Problem.notFound("no API endpoint " + req.prologue().method().text() + " /api");
                })
                .any("/api/*", (req, res) -> {
                    throw Problem.notFound("no API endpoint " + req.prologue().method().text() + " "
                            + req.path().path());
                })
                .register("/", StaticContentService.builder("web")
                        .welcomeFileName("index.html")
                        // welcome files inside jars (web/demo/, web/portal/ ...) are not found by Helidon 4.1.7
                        // itself, so a path ending in / is mapped to its index.html here
                        .pathMapper(path -> path.isEmpty() || path.endsWith("/") ? path + "index.html" : path)
                        .build());
    }

    public Settings settings() {
        return settings;
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

    public Publishers publishers() {
        return publishers;
    }

    @Override
    public void close() {
        if (payoutModule != null) {
            payoutModule.close();
        }
        publishers.close();
        db.close();
    }
}
