package io.earnidle.backend.payouts;

import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.http.Json;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

/**
 * A local development chain for tests and {@code ./earnidle dev}: ganache (npm, pinned in {@code backend/chain})
 * on 127.0.0.1 and a free port with its deterministic accounts, plus the test token {@code TestUsdc} (6 decimals;
 * source {@code backend/chain/contracts/TestUsdc.sol}, bytecode checked in as {@code chain/TestUsdc.json}).
 * Never used with a public network.
 */
public final class LocalChain implements AutoCloseable {
    /** ganache --wallet.deterministic account 0 (well known, worthless): the treasury of local chains. */
    public static final String DEV_KEY_0 = "0x4f3edf983ac636a65a842ce7c78d9aa706d3b113bce9c46f30d7d21715b23b1d";
    /** ganache --wallet.deterministic account 1. */
    public static final String DEV_KEY_1 = "0x6cbed15c793ce57650b9877cf6fa156fbef513c4e6134f022a85b1ffdd59b2a1";
    public static final long CHAIN_ID = 1337;

    private final Process process;
    private final int port;
    private final Chain chain;
    private final Path log;

    private LocalChain(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
        this.chain = new Chain(rpcUrl(), CHAIN_ID);
    }

    /**
     * Starts ganache and waits (up to 90 s) until it answers {@code eth_chainId}. The ganache install is found
     * from the system property / environment {@code EARNIDLE_CHAIN_DIR}, else {@code backend/chain} or
     * {@code ../backend/chain} or {@code chain} relative to the working directory.
     */
    public static LocalChain start() throws IOException {
        Path dir = chainDir();
        Path cli = dir.resolve("node_modules/ganache/dist/node/cli.js");
        if (!Files.isRegularFile(cli)) {
            throw new IOException("ganache is not installed in " + dir + ": run `npm ci` there");
        }
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path log = Files.createTempFile("ganache-", ".log");
        List<String> cmd = new ArrayList<>(List.of("node", cli.toString(),
                "--server.host", "127.0.0.1", "--server.port", String.valueOf(port),
                "--wallet.deterministic", "--chain.chainId", String.valueOf(CHAIN_ID),
                "--logging.quiet"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        LocalChain c = new LocalChain(p, port, log);
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            try {
                if (c.chain.remoteChainId() == CHAIN_ID) {
                    return c;
                }
            } catch (IOException | RuntimeException notYet) {
                // starting
            }
            if (!p.isAlive() || System.nanoTime() > deadline) {
                String out = Files.exists(log) ? Files.readString(log) : "";
                c.close();
                throw new IOException("ganache did not start on port " + port + ": " + out);
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                c.close();
                throw new IOException("interrupted", e);
            }
        }
    }

    private static Path chainDir() throws IOException {
        String configured = Optional.ofNullable(System.getProperty("EARNIDLE_CHAIN_DIR"))
                .orElse(System.getenv("EARNIDLE_CHAIN_DIR"));
        if (configured != null && !configured.isBlank()) {
            return Path.of(configured).toAbsolutePath();
        }
        Path cwd = Path.of("").toAbsolutePath();
        for (Path candidate : List.of(cwd.resolve("chain"), cwd.resolve("backend/chain"),
                cwd.resolveSibling("backend").resolve("chain"))) {
            if (Files.isRegularFile(candidate.resolve("package.json"))) {
                return candidate;
            }
        }
        throw new IOException("cannot find backend/chain (ganache) from " + cwd + "; set EARNIDLE_CHAIN_DIR");
    }

    public String rpcUrl() {
        return "http://127.0.0.1:" + port;
    }

    public Chain chain() {
        return chain;
    }

    /** Deploys TestUsdc minting {@code supply} base units (micro-USDC) to {@code deployer}; returns its address. */
    public String deployTestUsdc(Credentials deployer, BigInteger supply) throws IOException {
        JsonNode artifact;
        try (InputStream in = LocalChain.class.getResourceAsStream("/chain/TestUsdc.json")) {
            if (in == null) {
                throw new IOException("classpath chain/TestUsdc.json is missing");
            }
            artifact = Json.MAPPER.readTree(in);
        }
        String data = artifact.path("bytecode").asText() + FunctionEncoder.encodeConstructor(
                List.of(new Uint256(supply)));
        BigInteger nonce = chain.transactionCount(deployer.getAddress(), true);
        Chain.Signed s = chain.sign(deployer, nonce, chain.gasPrice(), BigInteger.valueOf(3_000_000), null,
                BigInteger.ZERO, data);
        Optional<String> error = chain.sendRaw(s.rawHex());
        if (error.isPresent()) {
            throw new IOException("token deployment refused: " + error.get());
        }
        TransactionReceipt r = awaitReceipt(s.hash());
        if (!r.isStatusOK() || r.getContractAddress() == null) {
            throw new IOException("token deployment failed: status " + r.getStatus());
        }
        return r.getContractAddress().toLowerCase();
    }

    /** Sends {@code amount} token units from {@code from} to {@code to} and waits for the receipt. */
    public TransactionReceipt transferToken(Credentials from, String token, String to, BigInteger amount)
            throws IOException {
        BigInteger nonce = chain.transactionCount(from.getAddress(), true);
        Chain.Signed s = chain.sign(from, nonce, chain.gasPrice(), BigInteger.valueOf(120_000), token,
                BigInteger.ZERO, Chain.transferData(to, amount));
        Optional<String> error = chain.sendRaw(s.rawHex());
        if (error.isPresent()) {
            throw new IOException("transfer refused: " + error.get());
        }
        return awaitReceipt(s.hash());
    }

    /** Mines one block ({@code evm_mine}): with mining stopped, the pending transactions it takes. */
    public void mine() throws IOException {
        call("evm_mine");
    }

    /**
     * Stops ({@code miner_stop}) or restarts ({@code miner_start}) mining: while stopped, sent transactions wait in
     * the pool, where a higher-priced one at the same nonce replaces them (a congested chain, in tests).
     */
    public void mining(boolean on) throws IOException {
        call(on ? "miner_start" : "miner_stop");
    }

    /** A JSON-RPC response whose result is not read (ganache answers these with "0x0" or true). */
    public static final class AnyResponse extends org.web3j.protocol.core.Response<Object> {
    }

    private void call(String method) throws IOException {
        var response = new org.web3j.protocol.core.Request<>(method, List.of(),
                new org.web3j.protocol.http.HttpService(rpcUrl()),
                AnyResponse.class).send();
        if (response.hasError()) {
            throw new IOException(method + ": " + response.getError().getMessage());
        }
    }

    public TransactionReceipt awaitReceipt(String hash) throws IOException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<TransactionReceipt> r = chain.receipt(hash);
            if (r.isPresent()) {
                return r.get();
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted", e);
            }
        }
        throw new IOException("no receipt for " + hash + " within 30 s");
    }

    @Override
    public void close() {
        chain.close();
        process.destroy();
        try {
            if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // a temp file
        }
    }
}
