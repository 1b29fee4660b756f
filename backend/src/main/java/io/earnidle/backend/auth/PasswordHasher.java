package io.earnidle.backend.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;

import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Argon2id password hashes (BouncyCastle), stored in the PHC string format
 * {@code $argon2id$v=19$m=<kb>,t=<iterations>,p=1$<salt>$<hash>} (unpadded base64), so the cost can be raised later
 * without invalidating stored hashes. Every hash and check passes a {@link HashingGate}, so anonymous sign-ups and
 * sign-ins cannot make the server hold more than a bounded number of Argon2id memory blocks at once.
 */
public final class PasswordHasher {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
    private static final Base64.Decoder B64D = Base64.getDecoder();
    private static final int HASH_BYTES = 32;

    private final int memoryKb;
    private final int iterations;
    private final String dummy;
    private final HashingGate gate;

    public PasswordHasher(int memoryKb, int iterations, HashingGate gate) {
        this.memoryKb = memoryKb;
        this.iterations = iterations;
        this.gate = gate;
        this.dummy = hash("dummy password for unknown accounts");
    }

    public String hash(String password) {
        return gate.run(() -> unboundedHash(password));
    }

    private String unboundedHash(String password) {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        byte[] out = derive(password, salt, memoryKb, iterations, 1);
        return "$argon2id$v=19$m=" + memoryKb + ",t=" + iterations + ",p=1$" + B64.encodeToString(salt) + "$"
                + B64.encodeToString(out);
    }

    /** Constant-time check of {@code password} against a stored hash; a null hash costs the same and fails. */
    public boolean verify(String password, String stored) {
        return gate.run(() -> unboundedVerify(password, stored));
    }

    private boolean unboundedVerify(String password, String stored) {
        boolean known = stored != null;
        String phc = known ? stored : dummy;
        String[] parts = phc.split("\\$");
        // ["", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash]
        if (parts.length != 6 || !"argon2id".equals(parts[1]) || !"v=19".equals(parts[2])) {
            return false;
        }
        int m = 0;
        int t = 0;
        int p = 0;
        for (String kv : parts[3].split(",")) {
            String[] pair = kv.split("=", 2);
            if (pair.length != 2) {
                return false;
            }
            int v = Integer.parseInt(pair[1]);
            switch (pair[0]) {
                case "m" -> m = v;
                case "t" -> t = v;
                case "p" -> p = v;
                default -> {
                    return false;
                }
            }
        }
        byte[] salt = B64D.decode(parts[4]);
        byte[] expected = B64D.decode(parts[5]);
        byte[] actual = derive(password, salt, m, t, p);
        return MessageDigest.isEqual(expected, actual) && known;
    }

    private static byte[] derive(String password, byte[] salt, int memoryKb, int iterations, int parallelism) {
        Argon2Parameters params = new Argon2Parameters.Builder(Argon2Parameters.ARGON2_id)
                .withVersion(Argon2Parameters.ARGON2_VERSION_13)
                .withSalt(salt)
                .withMemoryAsKB(memoryKb)
                .withIterations(iterations)
                .withParallelism(parallelism)
                .build();
        Argon2BytesGenerator gen = new Argon2BytesGenerator();
        gen.init(params);
        byte[] out = new byte[HASH_BYTES];
        gen.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
        return out;
    }
}
