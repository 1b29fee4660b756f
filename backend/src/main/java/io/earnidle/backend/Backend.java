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
import io.earnidle.backend.placements.PlacementService;
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

    private Backend(Settings settings, Database db, Ledger ledger, Models models) {
        this.settings = settings;
        this.db = db;
        this.ledger = ledger;
        this.models = models;
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
            return new Backend(settings, db, ledger, models);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    /** Registers all routes: the API services, the /api 404 fallback, then the static web files at /. */
    public void routing(HttpRouting.Builder routing) {
        Json.problemHandlers(routing);
        routing.register(new NodeService(settings, db, ledger, sessions))
                .register(new InferenceService(settings, db, ledger, models, sessions))
                .register(new JobService(settings, db, ledger, models))
                .register(new ModelService(db, models))
                .register(new PlacementService(db))
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

    @Override
    public void close() {
        db.close();
    }
}
