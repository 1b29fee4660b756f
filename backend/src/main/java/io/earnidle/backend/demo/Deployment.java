package io.earnidle.backend.demo;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.helidon.config.Config;

/**
 * {@code earnidle.mode}: {@code demo} (the default, the README's {@code ./earnidle serve}: demo data is seeded) or
 * {@code production} ({@code ./earnidle serve --config FILE}): nothing is seeded, and the server refuses to start on
 * unsafe settings or on a database that holds demo data.
 *
 * @param production   {@code earnidle.mode: production}
 * @param publicOrigin {@code earnidle.public-origin} (e.g. {@code https://earnidle.example}); empty = not set
 */
public record Deployment(boolean production, String publicOrigin) {
    /**
     * Chain ids of local development chains (ganache, Hardhat, Anvil) and public test networks (Ethereum Sepolia and
     * Holesky, Base Sepolia, Optimism Sepolia, Arbitrum Sepolia, Polygon Amoy): their tokens are worth nothing.
     */
    static final Set<Long> TEST_CHAIN_IDS = Set.of(1337L, 31337L, 11155111L, 17000L, 84532L, 11155420L, 421614L,
            80002L);

    /** Why production mode refuses to start. Its message says what to change. */
    public static final class Refused extends IllegalStateException {
        Refused(String message) {
            super("refusing to start in production mode (earnidle.mode: production): " + message);
        }
    }

    public static Deployment from(Config earnidle) {
        String mode = earnidle.get("mode").asString().orElse("demo").strip().toLowerCase(Locale.ROOT);
        if (!mode.equals("demo") && !mode.equals("production")) {
            throw new IllegalArgumentException("earnidle.mode must be demo or production, got " + mode);
        }
        return new Deployment(mode.equals("production"),
                earnidle.get("public-origin").asString().orElse("").strip());
    }

    /**
     * In production mode, refuses unsafe settings: a missing or plain-http {@code earnidle.public-origin}, and
     * real-money payouts (a payout RPC URL is set) signed for a test chain id. Nothing is checked in demo mode.
     */
    public void checkSettings(Config earnidle) {
        if (!production) {
            return;
        }
        List<String> problems = new ArrayList<>();
        if (publicOrigin.isEmpty()) {
            problems.add("earnidle.public-origin is not set; set it to the https origin users reach, e.g. "
                    + "https://earnidle.example");
        } else if (!httpsOrigin(publicOrigin)) {
            problems.add("earnidle.public-origin must be an https origin (scheme and host, no path), got "
                    + publicOrigin + "; plain http would send passwords, session cookies and API keys in the clear");
        }
        long chainId = earnidle.get("wallets.chain-id").asLong().orElse(1337L);
        boolean payouts = !earnidle.get("payouts.rpc-url").asString().orElse("").isBlank();
        if (payouts && TEST_CHAIN_IDS.contains(chainId)) {
            problems.add("earnidle.wallets.chain-id is " + chainId + ", a test chain, while payouts are on "
                    + "(earnidle.payouts.rpc-url is set); set the chain id of the network the USDC is paid on "
                    + "(Base mainnet: 8453)");
        }
        if (!problems.isEmpty()) {
            throw new Refused(String.join("; ", problems));
        }
    }

    /**
     * In production mode, refuses a database that holds demo data: the demo publisher, placement or customer, or an
     * API key whose secret is the demo key ({@code demo-customer-key} or the configured {@code earnidle.demo}
     * key). Such a database was once served in demo mode; anyone who read the README could spend its money.
     */
    public void checkNoDemoData(Database db, String demoApiKey) {
        if (!production) {
            return;
        }
        List<String> found = new ArrayList<>();
        if (Database.get(db.execute(), "publisher-by-id", Seeder.DEMO_PUBLISHER).isPresent()) {
            found.add("publisher " + Seeder.DEMO_PUBLISHER);
        }
        if (Database.get(db.execute(), "placement-by-id", Seeder.DEMO_PLACEMENT).isPresent()) {
            found.add("placement " + Seeder.DEMO_PLACEMENT);
        }
        if (Database.get(db.execute(), "customer-by-id", Seeder.DEMO_CUSTOMER).isPresent()) {
            found.add("customer " + Seeder.DEMO_CUSTOMER);
        }
        for (String key : List.of(Seeder.README_API_KEY, demoApiKey)) {
            if (Database.get(db.execute(), "api-key-by-hash", Ids.sha256Hex(key)).isPresent()) {
                found.add("an API key whose secret is the demo key");
                break;
            }
        }
        if (!found.isEmpty()) {
            throw new Refused("the database holds demo data (" + String.join(", ", found) + "); it was served "
                    + "in demo mode. Start production on a fresh database (earnidle.data-dir or db.connection.url)");
        }
    }

    private static boolean httpsOrigin(String origin) {
        try {
            URI uri = new URI(origin);
            return "https".equalsIgnoreCase(uri.getScheme()) && uri.getHost() != null && uri.getUserInfo() == null
                    && (uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))
                    && uri.getRawQuery() == null && uri.getRawFragment() == null;
        } catch (java.net.URISyntaxException e) {
            return false;
        }
    }
}
