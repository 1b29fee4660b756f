package io.earnidle.backend.nodes;

import java.time.Instant;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.helidon.dbclient.DbTransaction;

/**
 * More of a registration, handled outside this package (capability: the node's reported engines and held model
 * files, docs/trust.md): runs in the registration's transaction, after the session row is written.
 */
public interface RegistrationExtension {
    /** Does nothing. */
    RegistrationExtension NONE = (tx, sessionId, body, response, now) -> { };

    /**
     * Reads the fields it owns from the request {@code body} (throwing a validation problem when they are wrong) and
     * adds what the node should know to {@code response}.
     */
    void registered(DbTransaction tx, String sessionId, ObjectNode body, ObjectNode response, Instant now);
}
