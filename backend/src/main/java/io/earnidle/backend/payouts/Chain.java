package io.earnidle.backend.payouts;

import java.io.IOException;
import java.math.BigInteger;
import java.util.List;
import java.util.Optional;

import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Function;
import org.web3j.abi.datatypes.Type;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.Hash;
import org.web3j.crypto.RawTransaction;
import org.web3j.crypto.TransactionEncoder;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.core.methods.request.Transaction;
import org.web3j.protocol.core.methods.response.EthSendTransaction;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.utils.Numeric;

/**
 * A thin JSON-RPC client for what payouts need (web3j): nonces, gas price, signing and sending raw legacy
 * (EIP-155) transactions, receipts, ERC-20 {@code transfer} calldata and {@code balanceOf}. Not final: tests stand in
 * an RPC that lags or refuses (a load-balanced or flaky endpoint) by overriding single calls.
 */
public class Chain implements AutoCloseable {
    private final Web3j web3j;
    private final long chainId;

    public Chain(String rpcUrl, long chainId) {
        this.web3j = Web3j.build(new HttpService(rpcUrl));
        this.chainId = chainId;
    }

    public long chainId() {
        return chainId;
    }

    /** A signed transaction: its raw hex (what is broadcast) and hash. */
    public record Signed(String rawHex, String hash) {
    }

    public long remoteChainId() throws IOException {
        return check(web3j.ethChainId().send()).getChainId().longValueExact();
    }

    /** Transactions sent from {@code address}: mined ({@code pending=false}) or including the mempool. */
    public BigInteger transactionCount(String address, boolean pending) throws IOException {
        return check(web3j.ethGetTransactionCount(address,
                pending ? DefaultBlockParameterName.PENDING : DefaultBlockParameterName.LATEST).send())
                .getTransactionCount();
    }

    public BigInteger gasPrice() throws IOException {
        return check(web3j.ethGasPrice().send()).getGasPrice();
    }

    public BigInteger blockNumber() throws IOException {
        return check(web3j.ethBlockNumber().send()).getBlockNumber();
    }

    /** ERC-20 {@code transfer(to, amount)} calldata. */
    public static String transferData(String to, BigInteger amount) {
        return FunctionEncoder.encode(new Function("transfer", List.of(new Address(to), new Uint256(amount)),
                List.of()));
    }

    /** Signs a legacy EIP-155 transaction (deterministic: RFC 6979). */
    public Signed sign(Credentials from, BigInteger nonce, BigInteger gasPrice, BigInteger gasLimit, String to,
                       BigInteger value, String data) {
        RawTransaction raw = RawTransaction.createTransaction(nonce, gasPrice, gasLimit, to, value, data);
        String hex = Numeric.toHexString(TransactionEncoder.signMessage(raw, chainId, from));
        return new Signed(hex, Hash.sha3(hex).toLowerCase());
    }

    /**
     * Broadcasts a raw transaction. Returns empty when the node accepted it, else the node's error message (the
     * caller decides; "already known" style errors mean it was broadcast before).
     */
    public Optional<String> sendRaw(String rawHex) throws IOException {
        EthSendTransaction r = web3j.ethSendRawTransaction(rawHex).send();
        return r.hasError() ? Optional.of(r.getError().getMessage()) : Optional.empty();
    }

    /** Whether the node knows the transaction (mined or in its mempool). */
    public boolean knows(String txHash) throws IOException {
        return check(web3j.ethGetTransactionByHash(txHash).send()).getTransaction().isPresent();
    }

    public Optional<TransactionReceipt> receipt(String txHash) throws IOException {
        return check(web3j.ethGetTransactionReceipt(txHash).send()).getTransactionReceipt();
    }

    /** ERC-20 {@code balanceOf(owner)} at the latest block. */
    public BigInteger tokenBalance(String token, String owner) throws IOException {
        Function f = new Function("balanceOf", List.of(new Address(owner)),
                List.of(new TypeReference<Uint256>() { }));
        String result = check(web3j.ethCall(Transaction.createEthCallTransaction(owner, token,
                FunctionEncoder.encode(f)), DefaultBlockParameterName.LATEST).send()).getValue();
        @SuppressWarnings("rawtypes")
        List<Type> decoded = FunctionReturnDecoder.decode(result, f.getOutputParameters());
        if (decoded.isEmpty()) {
            throw new IOException("balanceOf returned nothing: is " + token + " an ERC-20 contract?");
        }
        return (BigInteger) decoded.get(0).getValue();
    }

    /** Web3j for callers that need more (tests, the local chain). */
    public Web3j web3j() {
        return web3j;
    }

    private static <R extends Response<?>> R check(R response) throws IOException {
        if (response.hasError()) {
            throw new IOException("JSON-RPC error " + response.getError().getCode() + ": "
                    + response.getError().getMessage());
        }
        return response;
    }

    @Override
    public void close() {
        web3j.shutdown();
    }
}
