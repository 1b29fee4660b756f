package io.earnidle.backend;

import java.nio.file.Files;
import java.nio.file.Path;

import io.earnidle.backend.demo.Deployment;
import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import io.helidon.logging.common.LogConfig;

/**
 * Starts the Earn Idle server with {@code application.yaml} (overridable by system properties and env), or with
 * {@code --config FILE} over it: {@code ./earnidle serve [--config FILE]}.
 */
public final class Main {
    private static final System.Logger LOGGER = System.getLogger(Main.class.getName());

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        Config config;
        try {
            config = config(args);
        } catch (IllegalArgumentException e) {
            System.err.println("earnidle: " + e.getMessage());
            System.exit(2);
            return;
        }
        EarnIdleServer server;
        try {
            server = EarnIdleServer.start(config);
        } catch (Deployment.Refused e) {
            System.err.println("earnidle: " + e.getMessage());
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "earnidle-shutdown"));
        String host = config.get("server.host").asString().orElse("127.0.0.1");
        String base = "http://" + ("0.0.0.0".equals(host) ? "127.0.0.1" : host) + ":" + server.port();
        LOGGER.log(System.Logger.Level.INFO, "Earn Idle started on " + base);
        Deployment deployment = Deployment.from(config.get("earnidle"));
        String dataDir = Settings.from(config.get("earnidle")).dataDir().toString();
        if (deployment.production()) {
            System.out.println("Earn Idle is running in PRODUCTION mode (Ctrl-C stops it): no demo data\n"
                    + "  listening  " + base + "\n"
                    + "  public     " + deployment.publicOrigin() + "\n"
                    + "  data dir   " + dataDir);
            return;
        }
        // The demo page is opened as localhost so that the widget (127.0.0.1) is on another origin, as on a real site.
        String demo = base.startsWith("http://127.0.0.1:") ? "http://localhost:" + server.port() : base;
        System.out.println("Earn Idle is running the DEMO (earnidle.mode: demo; Ctrl-C stops it):\n"
                + "  demo page  " + demo + "/demo/      (a publisher's page with the widget)\n"
                + "  portal     " + base + "/portal/\n"
                + "  API        " + base + "/api/models  (see docs/protocol.md)\n"
                + "  data dir   " + dataDir + "\n"
                + "  This demo seeds a publisher, a placement and a customer whose API key is printed in the README,\n"
                + "  funded with test money: never expose it. For a real deployment run\n"
                + "  ./earnidle serve --config FILE with earnidle.mode: production (docs/api.md).");
    }

    /** The configuration: {@code --config FILE} over {@code application.yaml}, or {@code application.yaml} alone. */
    static Config config(String[] args) {
        if (args.length == 0) {
            return Config.create();
        }
        if (args.length != 2 || !args[0].equals("--config")) {
            throw new IllegalArgumentException("usage: serve [--config FILE]");
        }
        Path file = Path.of(args[1]);
        if (!Files.isReadable(file)) {
            throw new IllegalArgumentException("--config " + file + ": no such readable file");
        }
        // system properties and environment variables still override the file, the file overrides the defaults
        return Config.builder()
                .addSource(ConfigSources.file(file))
                .addSource(ConfigSources.classpath("application.yaml"))
                .build();
    }
}
