package io.earnidle.backend;

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
        String message = "Earn Idle is running:\n"
                + "  API        " + base + "/api/models\n"
                + "  portal     " + base + "/portal/\n"
                + "  demo page  " + base + "/demo/\n"
                + "  data dir   " + Settings.from(config.get("earnidle")).dataDir();
        LOGGER.log(System.Logger.Level.INFO, message);
        System.out.println(message);
    }
}
