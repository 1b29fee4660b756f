package io.earnidle.backend.payouts;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.http.Json;

/**
 * The EIP-712 typed data a wallet signs to withdraw:
 * <pre>
 * domain  EIP712Domain(string name, string version, uint256 chainId) = ("Earn Idle", "1", chain id)
 * message Withdraw(string account, address destination, uint256 amount, uint256 nonce, uint256 deadline)
 * </pre>
 * {@code account} is the ledger account debited ({@code wallet:0x…} or {@code publisher:…}), {@code amount} is in
 * micro-USDC (= the token's 6-decimal base units), {@code nonce} is unique per account, {@code deadline} is a unix
 * time in seconds after which the signature is refused.
 */
public final class WithdrawTypedData {
    public static final String DOMAIN_NAME = "Earn Idle";
    public static final String DOMAIN_VERSION = "1";

    private WithdrawTypedData() {
    }

    /** The {@code types} object (EIP712Domain and Withdraw). */
    public static ObjectNode types() {
        ObjectNode types = Json.object();
        ArrayNode domain = types.putArray("EIP712Domain");
        field(domain, "name", "string");
        field(domain, "version", "string");
        field(domain, "chainId", "uint256");
        ArrayNode withdraw = types.putArray("Withdraw");
        field(withdraw, "account", "string");
        field(withdraw, "destination", "address");
        field(withdraw, "amount", "uint256");
        field(withdraw, "nonce", "uint256");
        field(withdraw, "deadline", "uint256");
        return types;
    }

    public static ObjectNode domain(long chainId) {
        ObjectNode d = Json.object();
        d.put("name", DOMAIN_NAME);
        d.put("version", DOMAIN_VERSION);
        d.put("chainId", chainId);
        return d;
    }

    /** The full typed data document (eth_signTypedData_v4 form). */
    public static ObjectNode of(long chainId, String account, String destination, long amount, long nonce,
                                long deadline) {
        ObjectNode root = Json.object();
        root.set("types", types());
        root.put("primaryType", "Withdraw");
        root.set("domain", domain(chainId));
        ObjectNode m = root.putObject("message");
        m.put("account", account);
        m.put("destination", destination);
        m.put("amount", amount);
        m.put("nonce", nonce);
        m.put("deadline", deadline);
        return root;
    }

    private static void field(ArrayNode a, String name, String type) {
        ObjectNode f = a.addObject();
        f.put("name", name);
        f.put("type", type);
    }
}
