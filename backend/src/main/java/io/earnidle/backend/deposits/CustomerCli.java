package io.earnidle.backend.deposits;

import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.ledger.Ledger;
import io.earnidle.backend.settings.Settings;
import io.helidon.config.Config;
import io.helidon.dbclient.DbRow;

/**
 * {@code ./earnidle customer credit --customer ID --amount-micro-usdc N --reason TEXT [--operator NAME]}: an audited
 * manual top-up (who, why, how much and the ledger transaction are recorded in {@code manual_credits}), and
 * {@code ./earnidle customer credits --customer ID}: that record and the balance. Runs on the backend's database (the
 * same {@code application.yaml}, system properties and environment as the server). Exit status 0 on success, 1 when
 * refused (the message says why), 2 on a usage error.
 */
public final class CustomerCli {
    static final String USAGE = """
            usage: customer credit --customer ID --amount-micro-usdc N --reason TEXT [--operator NAME]
                       credit a customer's balance by hand (recorded with the operator and the reason;
                       the operator defaults to the login name)
                   customer credits --customer ID
                       the customer's manual credits and balance""";
    private static final List<String> OPTIONS = List.of("--customer", "--amount-micro-usdc", "--reason", "--operator");

    private CustomerCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, Config.create(), System.out, System.err));
    }

    /** Runs one command on the database of {@code config}; returns the exit status. */
    static int run(String[] args, Config config, PrintStream out, PrintStream err) {
        if (args.length == 0 || !(args[0].equals("credit") || args[0].equals("credits"))) {
            err.println(USAGE);
            return 2;
        }
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            if (!OPTIONS.contains(args[i]) || i + 1 >= args.length) {
                err.println("unexpected argument " + args[i] + "\n" + USAGE);
                return 2;
            }
            opts.put(args[i], args[++i]);
        }
        boolean credit = args[0].equals("credit");
        if (!opts.containsKey("--customer") || credit != opts.containsKey("--amount-micro-usdc")
                || credit != opts.containsKey("--reason") || !credit && opts.containsKey("--operator")) {
            err.println(USAGE);
            return 2;
        }
        long amount;
        try {
            amount = credit ? Long.parseLong(opts.get("--amount-micro-usdc")) : 0;
        } catch (NumberFormatException e) {
            err.println("--amount-micro-usdc must be a whole number of micro-USDC (1 USDC = 1000000)");
            return 2;
        }
        Settings settings = Settings.from(config.get("earnidle"));
        Database db;
        try {
            db = Database.open(config.get("db"), settings);
        } catch (RuntimeException e) {
            err.println("cannot open the database (" + e.getMessage() + "). With the embedded H2 store, stop the "
                    + "server first: only one process can open its file.");
            return 1;
        }
        try (db) {
            Deposits deposits = new Deposits(db, new Ledger(Clock.systemUTC(),
                    Duration.ofSeconds(settings.verificationWindowSeconds())));
            String customer = opts.get("--customer");
            if (credit) {
                String operator = opts.getOrDefault("--operator", System.getProperty("user.name", ""));
                String id = deposits.manualCredit(customer, amount, operator, opts.get("--reason"));
                out.println("credited " + amount + " micro-USDC to " + customer + " (manual credit " + id
                        + ", operator " + operator.strip() + "); balance now " + balance(deposits, customer));
            } else {
                for (DbRow r : deposits.manualCredits(customer)) {
                    out.println(Database.instant(r, "created_at") + "  " + Database.str(r, "id") + "  "
                            + Database.lng(r, "amount_micro_usdc") + " micro-USDC  by "
                            + Database.str(r, "operator") + ": " + Database.str(r, "reason"));
                }
                out.println("balance " + balance(deposits, customer) + " micro-USDC");
            }
            return 0;
        } catch (IllegalArgumentException | IllegalStateException e) {
            err.println("customer " + args[0] + " refused: " + e.getMessage());
            return 1;
        }
    }

    private static long balance(Deposits deposits, String customer) {
        return deposits.db().inTransaction(tx -> deposits.ledger().available(tx,
                Ledger.accountId("customer", customer)));
    }
}
