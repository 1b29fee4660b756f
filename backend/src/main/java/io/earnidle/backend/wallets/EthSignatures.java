package io.earnidle.backend.wallets;

import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.SignatureException;
import java.util.Arrays;
import java.util.regex.Pattern;

import org.web3j.crypto.Hash;
import org.web3j.crypto.Keys;
import org.web3j.crypto.Sign;
import org.web3j.crypto.StructuredDataEncoder;
import org.web3j.utils.Numeric;

/**
 * Ethereum signature recovery (web3j / BouncyCastle): EIP-191 {@code personal_sign}, EIP-712 typed data and raw
 * 32-byte hashes. Every method returns the signer as a lowercase {@code 0x} address, or throws
 * {@link IllegalArgumentException} with a clear reason for a malformed signature or address. Signatures are 65
 * bytes {@code r || s || v} in hex ({@code v} 27/28 or 0/1); high-{@code s} (malleable) signatures are rejected.
 * Public API: the publisher portal uses {@link #recoverPersonalSignAddress} for payout wallets.
 */
public final class EthSignatures {
    private static final Pattern ADDRESS = Pattern.compile("0x[0-9a-fA-F]{40}");
    private static final Pattern SIGNATURE = Pattern.compile("0x[0-9a-fA-F]{130}");
    private static final BigInteger HALF_N = new BigInteger(
            "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0", 16);

    private EthSignatures() {
    }

    /**
     * The address that signed {@code message} with EIP-191 {@code personal_sign}
     * ({@code keccak256("\x19Ethereum Signed Message:\n" + len(utf8) + utf8)}).
     *
     * @param message      the exact text that was signed (UTF-8)
     * @param signatureHex 0x + 130 hex digits
     * @return the signer, lowercase 0x address
     */
    public static String recoverPersonalSignAddress(String message, String signatureHex) {
        if (message == null) {
            throw new IllegalArgumentException("message is missing");
        }
        byte[] hash = Sign.getEthereumMessageHash(message.getBytes(StandardCharsets.UTF_8));
        return recoverHashAddress(hash, signatureHex);
    }

    /** The address that signed EIP-712 typed data given as the standard JSON ({@code types, primaryType, domain, message}). */
    public static String recoverTypedDataAddress(String typedDataJson, String signatureHex) {
        byte[] hash;
        try {
            hash = new StructuredDataEncoder(typedDataJson).hashStructuredData();
        } catch (Exception e) {
            throw new IllegalArgumentException("typed data cannot be encoded: " + e.getMessage(), e);
        }
        return recoverHashAddress(hash, signatureHex);
    }

    /** The EIP-712 digest of typed data JSON. */
    public static byte[] typedDataHash(String typedDataJson) {
        try {
            return new StructuredDataEncoder(typedDataJson).hashStructuredData();
        } catch (Exception e) {
            throw new IllegalArgumentException("typed data cannot be encoded: " + e.getMessage(), e);
        }
    }

    /** The address whose key signed the 32-byte {@code hash}. */
    public static String recoverHashAddress(byte[] hash, String signatureHex) {
        if (hash == null || hash.length != 32) {
            throw new IllegalArgumentException("hash must be 32 bytes");
        }
        if (signatureHex == null || !SIGNATURE.matcher(signatureHex).matches()) {
            throw new IllegalArgumentException("signature must be 0x followed by 130 hex digits (65 bytes r, s, v)");
        }
        byte[] sig = Numeric.hexStringToByteArray(signatureHex);
        byte v = sig[64];
        if (v == 0 || v == 1) {
            v += 27;
        }
        if (v != 27 && v != 28) {
            throw new IllegalArgumentException("signature v must be 27 or 28 (or 0/1), got " + sig[64]);
        }
        byte[] r = Arrays.copyOfRange(sig, 0, 32);
        byte[] s = Arrays.copyOfRange(sig, 32, 64);
        BigInteger sValue = new BigInteger(1, s);
        if (sValue.signum() == 0 || sValue.compareTo(HALF_N) > 0 || new BigInteger(1, r).signum() == 0) {
            throw new IllegalArgumentException("signature r/s out of range (high-s signatures are not accepted)");
        }
        try {
            BigInteger publicKey = Sign.signedMessageHashToKey(hash, new Sign.SignatureData(v, r, s));
            return "0x" + Keys.getAddress(publicKey).toLowerCase();
        } catch (SignatureException | RuntimeException e) {
            throw new IllegalArgumentException("signature does not recover to a public key", e);
        }
    }

    /**
     * Validates an address and returns it lowercase. Mixed-case input must carry a valid EIP-55 checksum.
     *
     * @throws IllegalArgumentException naming {@code field}
     */
    public static String normalizeAddress(String address, String field) {
        if (address == null || !ADDRESS.matcher(address).matches()) {
            throw new IllegalArgumentException(field + " must be an address: 0x followed by 40 hex digits");
        }
        String hex = address.substring(2);
        boolean mixed = !hex.equals(hex.toLowerCase()) && !hex.equals(hex.toUpperCase());
        if (mixed && !checksum(address).equals(address)) {
            throw new IllegalArgumentException(field + " has an invalid EIP-55 checksum");
        }
        return address.toLowerCase();
    }

    /** The EIP-55 checksummed form of an address. */
    public static String checksum(String address) {
        return Keys.toChecksumAddress(address.toLowerCase());
    }

    /** keccak256 of UTF-8 text, 0x hex. */
    public static String keccakHex(String text) {
        return Hash.sha3String(text);
    }
}
