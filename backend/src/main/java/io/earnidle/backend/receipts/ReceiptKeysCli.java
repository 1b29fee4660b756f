package io.earnidle.backend.receipts;

import java.io.PrintStream;
import java.time.Instant;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;

/**
 * {@code ./earnidle keys rotate | list}: the receipt signing keys (docs/receipts.md) on the backend's database and
 * data directory (the same {@code application.yaml}, system properties and environment as the server). Exit status
 * 0 on success, 1 when the command was refused (the message says why), 2 on a usage error.
 */
public final class ReceiptKeysCli {
    static final String USAGE = """
            usage: keys rotate   add a new receipt signing key; the current one stays published, valid until the
                                 rotation plus earnidle.receipts.rotation-overlap-seconds
                   keys list     the published keys (the JWKS of /.well-known/earnidle-receipt-keys.json)""";

    private ReceiptKeysCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, Config.create(), System.out, System.err));
    }

    /** Runs one command; returns the exit status. */
    static int run(String[] args, Config config, PrintStream out, PrintStream err) {
        if (args.length != 1 || !(args[0].equals("rotate") || args[0].equals("list"))) {
            err.println(USAGE);
            return 2;
        }
        Settings settings = Settings.from(config.get("earnidle"));
        Optional<Database> opened = Database.openForCommand(config.get("db"), settings, err);
        if (opened.isEmpty()) {
            return 1;
        }
        try (Database db = opened.get()) {
            if (args[0].equals("rotate")) {
                ReceiptKeys keys = Receipts.keys(config.get("earnidle.receipts"), settings.dataDir());
                try {
                    String kid = keys.rotate(db, Instant.now());
                    out.println("new receipt key " + kid + " (private key " + settings.dataDir()
                            .resolve("receipt-keys").resolve(kid + ".key") + ")");
                } catch (IllegalStateException e) {
                    err.println(e.getMessage());
                    return 1;
                }
            }
            out.println(ReceiptKeys.jwks(db.execute()).toPrettyString());
            return 0;
        }
    }
}
