package io.earnidle.backend;

import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;

/** Starts the Earn Idle server with {@code application.yaml} (overridable by system properties and env). */
public final class Main {
    private static final System.Logger LOGGER = System.getLogger(Main.class.getName());

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        Config config = Config.create();
        EarnIdleServer server = EarnIdleServer.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "earnidle-shutdown"));
        String host = config.get("server.host").asString().orElse("127.0.0.1");
        String base = "http://" + ("0.0.0.0".equals(host) ? "127.0.0.1" : host) + ":" + server.port();
        // The demo page is opened as localhost so that the widget (127.0.0.1) is on another origin, as on a real site.
        String demo = base.startsWith("http://127.0.0.1:") ? "http://localhost:" + server.port() : base;
        LOGGER.log(System.Logger.Level.INFO, "Earn Idle started on " + base);
        System.out.println("Earn Idle is running (Ctrl-C stops it):\n"
                + "  demo page  " + demo + "/demo/      (a publisher's page with the widget)\n"
                + "  portal     " + base + "/portal/\n"
                + "  API        " + base + "/api/models  (see docs/protocol.md)\n"
                + "  data dir   " + Settings.from(config.get("earnidle")).dataDir());
    }
}
