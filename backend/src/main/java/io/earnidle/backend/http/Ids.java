package io.earnidle.backend.http;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.UUID;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochRandomGenerator;

/**
 * Identifiers, random secrets, and the SHA-256 under which secrets (tokens, API keys) are stored and request
 * bodies are compared.
 */
public final class Ids {
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Random bits drawn anew for each id (not the monotonic variant, whose ids of one millisecond count up). */
    private static final TimeBasedEpochRandomGenerator TIME_ORDERED = Generators.timeBasedEpochRandomGenerator(RANDOM);

    private Ids() {
    }

    /**
     * A new identifier, {@code prefix + 32 hex digits}: a version 7 UUID (RFC 9562) without its dashes, its creation
     * millisecond first and 74 random bits after. Rows inserted together sit together in the indexes keyed by their
     * id: with random ids each insert landed on its own index page, and H2 writes every page a checkpoint finds
     * changed whole (docs/benchmarks.md "Load"). 74 random bits keep an id unguessable; it tells when it was made.
     */
    public static String newId(String prefix) {
        UUID id = TIME_ORDERED.generate();
        return prefix + HexFormat.of().toHexDigits(id.getMostSignificantBits())
                + HexFormat.of().toHexDigits(id.getLeastSignificantBits());
    }

    /** {@code bytes} random bytes as hex. */
    public static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256Hex(String text) {
        return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
    }
}
