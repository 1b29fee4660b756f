package io.earnidle.backend.models;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Optional;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;

/**
 * {@code ./earnidle model add FILE.gguf --id ID [--name NAME] | list | remove ID}: the model catalog on the
 * backend's database (the same {@code application.yaml}, system properties and environment as the server). Exit
 * status 0 on success, 1 when the command was refused (the message says why), 2 on a usage error.
 */
public final class ModelCatalogCli {
    static final String USAGE = """
            usage: model add FILE.gguf --id ID [--name NAME]   check, copy and register a Llama GGUF file
                   model list                                  the served models
                   model remove ID                             retire a model (refused while it has jobs in flight)""";

    private ModelCatalogCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, Config.create(), System.out, System.err));
    }

    /** Runs one command on the database of {@code config}; returns the exit status. */
    static int run(String[] args, Config config, PrintStream out, PrintStream err) {
        if (args.length == 0 || !(args[0].equals("add") || args[0].equals("list") || args[0].equals("remove"))) {
            err.println(USAGE);
            return 2;
        }
        String file = null;
        String id = null;
        String name = null;
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if ((a.equals("--id") || a.equals("--name")) && i + 1 < args.length) {
                if (a.equals("--id")) {
                    id = args[++i];
                } else {
                    name = args[++i];
                }
            } else if (!a.startsWith("--") && (args[0].equals("add") ? file : id) == null) {
                if (args[0].equals("add")) {
                    file = a;
                } else {
                    id = a;
                }
            } else {
                err.println("unexpected argument " + a + "\n" + USAGE);
                return 2;
            }
        }
        boolean complete = switch (args[0]) {
            case "add" -> file != null && id != null;
            case "remove" -> id != null && name == null;
            default -> args.length == 1;
        };
        if (!complete) {
            err.println(USAGE);
            return 2;
        }
        Settings settings = Settings.from(config.get("earnidle"));
        Optional<Database> opened = Database.openForCommand(config.get("db"), settings, err);
        if (opened.isEmpty()) {
            return 1;
        }
        try (Database db = opened.get()) {
            ModelCatalog catalog = new ModelCatalog(db, new Models(db, settings.modelsDir()));
            switch (args[0]) {
                case "add" -> {
                    ModelCatalog.Entry e = catalog.add(Path.of(file), id, name, Instant.now());
                    out.println("added " + e.model().id() + " (" + e.name() + "): " + describe(e));
                }
                case "remove" -> {
                    catalog.remove(id);
                    out.println("removed " + id);
                }
                default -> list(catalog, out);
            }
            return 0;
        } catch (IllegalArgumentException | IllegalStateException | IOException e) {
            err.println("model " + args[0] + " refused: " + e.getMessage());
            return 1;
        }
    }

    private static void list(ModelCatalog catalog, PrintStream out) {
        out.printf(Locale.ROOT, "%-32s %-10s %9s %8s %8s %10s %10s  %-8s %s%n", "ID", "QUANT", "PARAMS", "CONTEXT",
                "VOCAB", "FILE", "MEMORY", "CHAT", "SHA-256");
        for (ModelCatalog.Entry e : catalog.list()) {
            out.printf(Locale.ROOT, "%-32s %-10s %9s %8d %8d %10s %10s  %-8s %s%n", e.model().id(),
                    orDash(e.quantization()), e.parameterCount() == null ? "-" : count(e.parameterCount()),
                    e.model().contextLength(), e.model().vocabSize(), bytes(e.model().sizeBytes()),
                    e.memoryBytes() == null ? "-" : bytes(e.memoryBytes()), orDash(e.chatFormat()),
                    e.model().sha256().substring(0, 16) + "…");
        }
    }

    private static String describe(ModelCatalog.Entry e) {
        return String.format(Locale.ROOT, "%s %s, %s parameters, context %d, vocabulary %d, chat %s, file %s, "
                        + "memory need %s (file + KV cache at full context), sha256 %s", e.architecture(),
                e.quantization(), count(e.parameterCount()), e.model().contextLength(), e.model().vocabSize(),
                orDash(e.chatFormat()), bytes(e.model().sizeBytes()), bytes(e.memoryBytes()), e.model().sha256());
    }

    private static String orDash(String s) {
        return s == null ? "-" : s;
    }

    static String count(long n) {
        return n >= 1_000_000_000 ? String.format(Locale.ROOT, "%.2fB", n / 1e9)
                : n >= 1_000_000 ? String.format(Locale.ROOT, "%.1fM", n / 1e6)
                : n >= 1_000 ? String.format(Locale.ROOT, "%.1fK", n / 1e3) : Long.toString(n);
    }

    static String bytes(long n) {
        return n >= 1L << 30 ? String.format(Locale.ROOT, "%.2f GiB", n / (double) (1L << 30))
                : String.format(Locale.ROOT, "%.1f MiB", n / (double) (1L << 20));
    }
}
