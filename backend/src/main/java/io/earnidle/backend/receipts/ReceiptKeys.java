package io.earnidle.backend.receipts;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Json;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;
import org.bouncycastle.asn1.ASN1OctetString;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.crypto.params.Ed25519PrivateKeyParameters;
import org.bouncycastle.crypto.params.Ed25519PublicKeyParameters;
import org.bouncycastle.crypto.signers.Ed25519Signer;

import static io.earnidle.backend.db.Database.ts;

/**
 * The Ed25519 keys that sign receipts (docs/receipts.md). Private keys are files of this backend: one per key under
 * {@code <data-dir>/receipt-keys/<kid>.key} (the base64url 32-byte seed; directory 0700, file 0600, created on first
 * start), or the one file {@code earnidle.receipts.key-file} names (the same format, or a PKCS#8 PEM). The public
 * halves and their validity periods are rows of {@code receipt_keys}, published as a JWKS. A receipt is signed with
 * the newest key valid at its time whose private half this backend holds; {@link #rotate} adds a key and ends the
 * periods of the keys it replaces after an overlap (for receipts signed while the rotation committed).
 */
public final class ReceiptKeys {
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64URL_DECODER = Base64.getUrlDecoder();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** One signing key: its id and private half. */
    public record SigningKey(String kid, Ed25519PrivateKeyParameters key) {
        public String x() {
            return B64URL.encodeToString(key.generatePublicKey().getEncoded());
        }
    }

    private final Path dir;
    private final Path configuredFile;
    private final Duration overlap;
    private final Map<String, SigningKey> held = new ConcurrentHashMap<>();

    /**
     * @param dataDir        the backend's data directory (keys under {@code receipt-keys/})
     * @param configuredFile the configured key file, or null to create and rotate keys under the data directory
     * @param overlap        how long a replaced key stays valid after a rotation
     */
    public ReceiptKeys(Path dataDir, Path configuredFile, Duration overlap) {
        this.dir = dataDir.resolve("receipt-keys");
        this.configuredFile = configuredFile;
        this.overlap = overlap;
    }

    /** Loads the configured key, or creates the first key when this backend holds none valid now; registers it. */
    public void ensure(Database db, Instant now) {
        if (configuredFile != null) {
            SigningKey k = fromSeed(read(configuredFile));
            held.put(k.kid(), k);
            db.inTransaction(tx -> {
                if (Database.get(tx, "rk-by-kid", k.kid()).isEmpty()) {
                    tx.namedInsert("rk-insert", k.kid(), k.x(), ts(now), ts(now));
                }
                return null;
            });
            return;
        }
        if (current(db.execute(), now).isEmpty()) {
            add(db, now);
        }
    }

    /** A new key, valid from {@code now}; the keys it replaces stay valid for the overlap. Returns its kid. */
    public String rotate(Database db, Instant now) {
        if (configuredFile != null) {
            throw new IllegalStateException("the receipt key comes from earnidle.receipts.key-file ("
                    + configuredFile + "): configure another file to change it");
        }
        return add(db, now);
    }

    private String add(Database db, Instant now) {
        byte[] seed = new byte[Ed25519PrivateKeyParameters.KEY_SIZE];
        RANDOM.nextBytes(seed);
        SigningKey k = fromSeed(seed);
        write(dir.resolve(k.kid() + ".key"), B64URL.encodeToString(seed) + "\n");
        held.put(k.kid(), k);
        Instant end = now.plus(overlap);
        db.inTransaction(tx -> {
            for (DbRow open : Database.list(tx, "rk-valid", ts(now), ts(now))) {
                String kid = Database.str(open, "kid");
                if (load(kid).isPresent()) { // only the keys of this backend: others belong to other instances
                    tx.namedUpdate("rk-end", ts(end), kid, ts(end));
                }
            }
            tx.namedInsert("rk-insert", k.kid(), k.x(), ts(now), ts(now));
            return null;
        });
        return k.kid();
    }

    /** The newest key valid at {@code now} that this backend holds. */
    public Optional<SigningKey> current(DbExecute exec, Instant now) {
        for (DbRow row : Database.list(exec, "rk-valid", ts(now), ts(now))) {
            Optional<SigningKey> k = load(Database.str(row, "kid"));
            if (k.isPresent()) {
                return k;
            }
        }
        return Optional.empty();
    }

    /** The Ed25519 signature of {@code message}. */
    public static byte[] sign(SigningKey key, byte[] message) {
        Ed25519Signer signer = new Ed25519Signer();
        signer.init(true, key.key());
        signer.update(message, 0, message.length);
        return signer.generateSignature();
    }

    /** Whether {@code signature} is {@code x}'s (base64url public key) over {@code message}. */
    public static boolean verify(String x, byte[] message, byte[] signature) {
        Ed25519Signer verifier = new Ed25519Signer();
        verifier.init(false, new Ed25519PublicKeyParameters(B64URL_DECODER.decode(x)));
        verifier.update(message, 0, message.length);
        return verifier.verifySignature(signature);
    }

    public static String base64url(byte[] bytes) {
        return B64URL.encodeToString(bytes);
    }

    /**
     * Every published key as a JWKS (RFC 7517; OKP keys, RFC 8037): {@code kid}, {@code x}, {@code nbf} and, once a
     * rotation ended its period, {@code exp}, both in seconds since the epoch ({@code nbf} rounded down, {@code exp}
     * up, so every receipt of the key's period lies in {@code [nbf, exp)}).
     */
    public static ObjectNode jwks(DbExecute exec) {
        ObjectNode out = Json.object();
        ArrayNode keys = out.putArray("keys");
        for (DbRow row : Database.list(exec, "rk-all")) {
            ObjectNode k = keys.addObject();
            k.put("kty", "OKP");
            k.put("crv", "Ed25519");
            k.put("use", "sig");
            k.put("alg", "EdDSA");
            k.put("kid", Database.str(row, "kid"));
            k.put("x", Database.str(row, "x"));
            k.put("nbf", Database.instant(row, "not_before").getEpochSecond());
            Instant exp = Database.instant(row, "expires_at");
            if (exp != null) {
                k.put("exp", exp.getEpochSecond() + (exp.getNano() > 0 ? 1 : 0));
            }
        }
        return out;
    }

    /** The key {@code kid} when this backend holds its private half (loaded once). */
    private Optional<SigningKey> load(String kid) {
        SigningKey have = held.get(kid);
        if (have != null || configuredFile != null) {
            return Optional.ofNullable(have);
        }
        Path file = dir.resolve(kid + ".key");
        if (!kid.matches("[A-Za-z0-9_-]{1,64}") || !Files.isRegularFile(file)) {
            return Optional.empty();
        }
        SigningKey k = fromSeed(read(file));
        if (!k.kid().equals(kid)) {
            throw new IllegalStateException(file + " holds key " + k.kid() + ", not " + kid);
        }
        held.put(kid, k);
        return Optional.of(k);
    }

    /** The key of a 32-byte seed; its kid is the RFC 7638 JWK thumbprint of the public key. */
    static SigningKey fromSeed(byte[] seed) {
        Ed25519PrivateKeyParameters key = new Ed25519PrivateKeyParameters(seed, 0);
        String x = B64URL.encodeToString(key.generatePublicKey().getEncoded());
        String thumbprintInput = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" + x + "\"}";
        return new SigningKey(B64URL.encodeToString(sha256(thumbprintInput.getBytes(StandardCharsets.UTF_8))),
                key);
    }

    /** The seed in a key file: one base64url line, or a PKCS#8 PEM ({@code BEGIN PRIVATE KEY}). */
    static byte[] read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.US_ASCII).trim();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read receipt key " + file, e);
        }
        try {
            if (text.startsWith("-----BEGIN PRIVATE KEY-----")) {
                String b64 = text.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
                PrivateKeyInfo info = PrivateKeyInfo.getInstance(Base64.getDecoder().decode(b64));
                return ASN1OctetString.getInstance(info.parsePrivateKey()).getOctets();
            }
            byte[] seed = B64URL_DECODER.decode(text);
            if (seed.length != Ed25519PrivateKeyParameters.KEY_SIZE) {
                throw new IllegalArgumentException("a seed has 32 bytes, this one " + seed.length);
            }
            return seed;
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException(file + " is not an Ed25519 private key (base64url seed or PKCS#8 PEM)",
                    e);
        }
    }

    /** Writes a new file readable by its owner only, in a directory only its owner may enter. */
    private void write(Path file, String content) {
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, content, StandardCharsets.US_ASCII);
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("receipt key " + file + " already exists", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write receipt key " + file, e);
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
