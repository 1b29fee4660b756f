package io.earnidle.backend.auth;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.webauthn4j.WebAuthnManager;
import com.webauthn4j.converter.AttestedCredentialDataConverter;
import com.webauthn4j.converter.util.ObjectConverter;
import com.webauthn4j.credential.CredentialRecord;
import com.webauthn4j.credential.CredentialRecordImpl;
import com.webauthn4j.data.AuthenticationData;
import com.webauthn4j.data.AuthenticationParameters;
import com.webauthn4j.data.AuthenticationRequest;
import com.webauthn4j.data.PublicKeyCredentialParameters;
import com.webauthn4j.data.PublicKeyCredentialType;
import com.webauthn4j.data.RegistrationData;
import com.webauthn4j.data.RegistrationParameters;
import com.webauthn4j.data.RegistrationRequest;
import com.webauthn4j.data.attestation.authenticator.AttestedCredentialData;
import com.webauthn4j.data.attestation.statement.COSEAlgorithmIdentifier;
import com.webauthn4j.data.attestation.statement.NoneAttestationStatement;
import com.webauthn4j.data.client.Origin;
import com.webauthn4j.data.client.challenge.DefaultChallenge;
import com.webauthn4j.server.ServerProperty;
import com.webauthn4j.verifier.exception.VerificationException;
import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Fields;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.http.Json;
import io.earnidle.backend.http.Problem;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbRow;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * Passkeys (WebAuthn, verified with webauthn4j): a signed-in publisher registers one, then can sign in with it
 * instead of the password (discoverable credential; the relying party id is the portal's host name).
 */
public record PasskeyService(Database db, Ledger ledger, PublisherSessions sessions, int maxBodyBytes)
        implements HttpService {
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder B64URLD = Base64.getUrlDecoder();
    private static final Duration CHALLENGE_TTL = Duration.ofMinutes(5);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final List<PublicKeyCredentialParameters> ALGORITHMS = List.of(
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.ES256),
            new PublicKeyCredentialParameters(PublicKeyCredentialType.PUBLIC_KEY, COSEAlgorithmIdentifier.RS256));
    private static final WebAuthnManager WEB_AUTHN = WebAuthnManager.createNonStrictWebAuthnManager();
    private static final AttestedCredentialDataConverter CREDENTIALS =
            new AttestedCredentialDataConverter(new ObjectConverter());

    @Override
    public void routing(HttpRules rules) {
        rules.post("/passkeys/options", this::registrationOptions)
                .post("/passkeys", this::register)
                .post("/passkey-signin/options", this::signinOptions)
                .post("/passkey-signin", this::signin);
    }

    private static String rpId(ServerRequest req) {
        return req.requestedUri().host();
    }

    private static Origin origin(ServerRequest req) {
        return new Origin((req.isSecure() ? "https://" : "http://") + req.authority());
    }

    private String newChallenge(String publisherId, String purpose) {
        byte[] bytes = new byte[32];
        RANDOM.nextBytes(bytes);
        String id = Ids.newId("wch_");
        Instant now = ledger.now();
        // anonymous requests create these: expired ones (useless) go as new ones come (docs/security.md)
        db.execute().namedDelete("delete-expired-webauthn-challenges", Database.ts(now));
        db.execute().namedInsert("insert-webauthn-challenge", id, publisherId, purpose, B64URL.encodeToString(bytes),
                Database.ts(now.plus(CHALLENGE_TTL)));
        return id;
    }

    /** Consumes a challenge (single use): its bytes, or 400 when unknown, expired or for another purpose. */
    private byte[] takeChallenge(String id, String purpose, String publisherId) {
        DbRow row = Database.get(db.execute(), "webauthn-challenge", id)
                .orElseThrow(() -> Problem.validation("challenge_id is unknown or already used; start again"));
        db.execute().namedDelete("delete-webauthn-challenge", id);
        if (!purpose.equals(Database.str(row, "purpose"))
                || (publisherId != null && !publisherId.equals(Database.str(row, "publisher_id")))
                || !Database.instant(row, "expires_at").isAfter(ledger.now())) {
            throw Problem.validation("challenge_id is expired or was issued for something else; start again");
        }
        return B64URLD.decode(Database.str(row, "challenge"));
    }

    private void registrationOptions(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        DbRow pub = Database.get(db.execute(), "pub-by-id", p.publisherId()).orElseThrow();
        String challengeId = newChallenge(p.publisherId(), "register");
        String challenge = Database.str(Database.get(db.execute(), "webauthn-challenge", challengeId).orElseThrow(),
                "challenge");
        ObjectNode pk = Json.object();
        pk.put("challenge", challenge);
        pk.putObject("rp").put("id", rpId(req)).put("name", "Earn Idle publisher portal");
        pk.putObject("user")
                .put("id", B64URL.encodeToString(p.publisherId().getBytes(StandardCharsets.UTF_8)))
                .put("name", Database.str(pub, "email"))
                .put("displayName", Database.str(pub, "name"));
        ArrayNode params = pk.putArray("pubKeyCredParams");
        params.addObject().put("type", "public-key").put("alg", -7);
        params.addObject().put("type", "public-key").put("alg", -257);
        pk.put("timeout", CHALLENGE_TTL.toMillis());
        pk.put("attestation", "none");
        pk.putObject("authenticatorSelection").put("residentKey", "required").put("requireResidentKey", true)
                .put("userVerification", "preferred");
        ArrayNode exclude = pk.putArray("excludeCredentials");
        for (DbRow row : Database.list(db.execute(), "passkeys-of-publisher", p.publisherId())) {
            exclude.addObject().put("type", "public-key").put("id", Database.str(row, "id"));
        }
        Json.send(res, Status.OK_200, Json.object().put("challenge_id", challengeId).set("public_key", pk));
    }

    private void register(ServerRequest req, ServerResponse res) {
        PublisherSessions.Principal p = sessions.requireForChange(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String challengeId = Fields.requiredString(body, "challenge_id", 64);
        byte[] clientData = b64(body, "client_data_json");
        byte[] attestation = b64(body, "attestation_object");
        Set<String> transports = new HashSet<>();
        JsonNode t = body.get("transports");
        if (t != null && t.isArray()) {
            t.forEach(n -> transports.add(n.asText()));
        }
        byte[] challenge = takeChallenge(challengeId, "register", p.publisherId());
        RegistrationData data;
        try {
            data = WEB_AUTHN.verify(new RegistrationRequest(attestation, clientData, transports),
                    new RegistrationParameters(new ServerProperty(origin(req), rpId(req),
                            new DefaultChallenge(challenge)), ALGORITHMS, false, true));
        } catch (VerificationException | com.webauthn4j.converter.exception.DataConversionException e) {
            throw Problem.validation("the passkey could not be verified: " + e.getMessage());
        }
        AttestedCredentialData acd = data.getAttestationObject().getAuthenticatorData().getAttestedCredentialData();
        String credentialId = B64URL.encodeToString(acd.getCredentialId());
        long signCount = data.getAttestationObject().getAuthenticatorData().getSignCount();
        db.inTransaction(tx -> {
            if (Database.get(tx, "passkey-by-id", credentialId).isPresent()) {
                throw Problem.conflict("this passkey is already registered");
            }
            tx.namedInsert("insert-passkey", credentialId, p.publisherId(),
                    Base64.getEncoder().encodeToString(CREDENTIALS.convert(acd)), signCount,
                    Database.ts(ledger.now()));
            return null;
        });
        Json.send(res, Status.CREATED_201, Json.object().put("id", credentialId));
    }

    private void signinOptions(ServerRequest req, ServerResponse res) {
        sessions.checkOrigin(req);
        String challengeId = newChallenge(null, "signin");
        String challenge = Database.str(Database.get(db.execute(), "webauthn-challenge", challengeId).orElseThrow(),
                "challenge");
        ObjectNode pk = Json.object();
        pk.put("challenge", challenge);
        pk.put("rpId", rpId(req));
        pk.put("timeout", CHALLENGE_TTL.toMillis());
        pk.put("userVerification", "preferred");
        pk.putArray("allowCredentials");
        Json.send(res, Status.OK_200, Json.object().put("challenge_id", challengeId).set("public_key", pk));
    }

    private void signin(ServerRequest req, ServerResponse res) {
        sessions.checkOrigin(req);
        ObjectNode body = Json.readObject(req, maxBodyBytes);
        String challengeId = Fields.requiredString(body, "challenge_id", 64);
        String credentialId = Fields.requiredString(body, "credential_id", 512);
        byte[] clientData = b64(body, "client_data_json");
        byte[] authData = b64(body, "authenticator_data");
        byte[] signature = b64(body, "signature");
        byte[] userHandle = Fields.present(body, "user_handle") ? b64(body, "user_handle") : null;
        byte[] challenge = takeChallenge(challengeId, "signin", null);
        DbRow row = Database.get(db.execute(), "passkey-by-id", credentialId)
                .orElseThrow(() -> Problem.unauthorized("this passkey is not registered with any account"));
        String publisherId = Database.str(row, "publisher_id");
        AttestedCredentialData acd = CREDENTIALS.convert(
                Base64.getDecoder().decode(Database.str(row, "credential_cbor")));
        CredentialRecord record = new CredentialRecordImpl(new NoneAttestationStatement(), null, null, null,
                Database.lng(row, "sign_count"), acd, null, null, null, null);
        AuthenticationData data;
        try {
            data = WEB_AUTHN.verify(new AuthenticationRequest(B64URLD.decode(credentialId), userHandle, authData,
                            clientData, signature),
                    new AuthenticationParameters(new ServerProperty(origin(req), rpId(req),
                            new DefaultChallenge(challenge)), record, List.of(B64URLD.decode(credentialId)), false,
                            true));
        } catch (VerificationException | com.webauthn4j.converter.exception.DataConversionException e) {
            throw Problem.unauthorized("the passkey signature could not be verified: " + e.getMessage());
        }
        long newCount = data.getAuthenticatorData().getSignCount();
        String csrf = db.inTransaction(tx -> {
            tx.namedUpdate("update-passkey-count", newCount, credentialId);
            return sessions.start(tx, req, res, publisherId);
        });
        Json.send(res, Status.OK_200, Json.object().put("id", publisherId).put("csrf_token", csrf));
    }

    private static byte[] b64(ObjectNode body, String name) {
        String s = Fields.requiredString(body, name, 16384);
        try {
            return B64URLD.decode(s);
        } catch (IllegalArgumentException e) {
            throw Problem.validation(name + " must be base64url");
        }
    }
}
