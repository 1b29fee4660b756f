package io.earnidle.backend.domains;

import java.lang.System.Logger.Level;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Ids;
import io.earnidle.backend.ledger.Ledger;
import io.helidon.dbclient.DbExecute;
import io.helidon.dbclient.DbRow;

/**
 * Domain verification by DNS TXT record: checks one domain ("Check now"), moves a domain to the publisher that
 * proves it afresh (the previous holder loses it and gets a notice), re-checks verified domains periodically, and
 * keeps each placement's suspension in step with whether its domain is still verified.
 */
public record DomainVerifier(Database db, Ledger ledger, TxtResolver resolver) {
    private static final System.Logger LOGGER = System.getLogger(DomainVerifier.class.getName());

    /**
     * The outcome of one check: {@code status} is the domain's status afterwards; {@code dropped} when the check's
     * answer was stale (the domain changed between its read and its write, see {@link #statusNow}) and nothing was
     * written; {@code verified} when this check found the record and the domain is verified.
     */
    public record Outcome(boolean verified, String status, boolean dropped, TxtResolver.Answer answer,
                          String expectedName, String expectedValue, String resolver) {
    }

    /** What a check's transaction did: the domain's status afterwards, and whether its conditional write applied. */
    private record Applied(String status, boolean written) {
    }

    /** Queries DNS for the domain row {@code domainId} and applies the result. */
    public Outcome check(String domainId) {
        DbRow row = Database.get(db.execute(), "domain-by-id", domainId).orElseThrow();
        String name = Database.str(row, "name");
        String token = Database.str(row, "token");
        String publisherId = Database.str(row, "publisher_id");
        String before = Database.str(row, "status");
        String recordName = DomainNames.recordName(name);
        String expected = DomainNames.recordValue(token);
        TxtResolver.Answer answer = resolver.txt(recordName);
        boolean ok = answer.error() == null && answer.values().contains(expected);
        Instant now = ledger.now();
        String detail = "resolver " + resolver.description() + " saw " + answer.describe();
        Applied applied = db.inTransaction(tx -> {
            Set<String> touched = new HashSet<>();
            touched.add(publisherId);
            String next;
            // a lost domain's token was superseded by another publisher's fresh proof: it never comes back (the
            // portal refuses to check it, but a check may have begun just before the proof moved it)
            if (ok && !"lost".equals(before)) {
                next = "verified";
                // one proof of a name at a time: without it two publishers' simultaneous proofs could each commit
                // a verified row before seeing the other's (each would lock only its own row)
                Database.list(tx, "domain-lock-name", name);
                if (tx.namedUpdate("domain-set-verified", Database.ts(now), detail, Database.ts(now), domainId,
                        before) == 0) {
                    return new Applied(statusNow(tx, domainId), false);
                }
                for (DbRow other : Database.list(tx, "domains-held-by-others", name, publisherId)) {
                    String loser = Database.str(other, "publisher_id");
                    // whatever its holder's own check made of it meanwhile (verified or failing), it is lost now
                    if (tx.namedUpdate("domain-set-lost", Database.ts(now),
                            "another account proved control of " + name + " with a fresh TXT record",
                            Database.str(other, "id")) == 0) {
                        continue;
                    }
                    tx.namedInsert("insert-notice", Ids.newId("ntc_"), loser,
                            "Another publisher proved control of " + DomainNames.display(name)
                                    + " with a fresh DNS TXT record, so it is no longer verified for your account."
                                    + " Placements on it are suspended. Add the domain again and publish a new"
                                    + " record to reclaim it.",
                            Database.ts(now));
                    touched.add(loser);
                }
            } else {
                // a pending domain stays pending; a verified one starts failing (its placements are suspended)
                next = "pending".equals(before) || "lost".equals(before) ? before : "failing";
                if (tx.namedUpdate("domain-set-status", next, Database.ts(now), detail, domainId, before) == 0) {
                    return new Applied(statusNow(tx, domainId), false);
                }
                if ("verified".equals(before)) {
                    tx.namedInsert("insert-notice", Ids.newId("ntc_"), publisherId,
                            "The TXT record for " + DomainNames.display(name) + " was not found at a re-check ("
                                    + detail + "). Placements on it are suspended until the record is back.",
                            Database.ts(now));
                }
            }
            for (String pub : touched) {
                refreshPlacements(tx, pub);
            }
            return new Applied(next, true);
        });
        String status = applied.status();
        if (!applied.written()) {
            LOGGER.log(Level.INFO, "domain " + name + " of " + publisherId + ": check dropped, the domain changed from "
                    + before + " to " + status + " while it ran (" + detail + ")");
        } else if (!before.equals(status)) {
            LOGGER.log(Level.INFO, "domain " + name + " of " + publisherId + ": " + before + " -> " + status
                    + " (" + detail + ")");
        }
        return new Outcome(ok && applied.written() && "verified".equals(status), status, !applied.written(), answer,
                recordName, expected, resolver.description());
    }

    /**
     * The domain's status when it changed between this check's read and its write (another check moved it, e.g. a
     * fresh proof by another publisher during a periodic re-check): the stale answer is dropped, nothing is written.
     */
    private static String statusNow(DbExecute tx, String domainId) {
        return Database.str(Database.get(tx, "domain-by-id", domainId).orElseThrow(), "status");
    }

    /** Re-checks every verified (or failing) domain once. Returns how many were checked. */
    public int recheckAll() {
        List<DbRow> rows = Database.list(db.execute(), "domains-to-recheck");
        int n = 0;
        for (DbRow row : rows) {
            try {
                check(Database.str(row, "id"));
                n++;
            } catch (RuntimeException e) {
                LOGGER.log(Level.WARNING, "re-check of domain " + Database.str(row, "name") + " failed", e);
            }
        }
        return n;
    }

    /** The verified domain row of the publisher that covers {@code host}, if any. */
    public static boolean covered(DbExecute exec, String publisherId, String host) {
        for (DbRow d : Database.list(exec, "verified-domains-of-publisher", publisherId)) {
            String name = Database.str(d, "name");
            if (host.equals(name) || (Database.bool(d, "include_subdomains") && host.endsWith("." + name))) {
                return true;
            }
        }
        return false;
    }

    /** Suspends the publisher's placements whose domain is no longer covered, and resumes those covered again. */
    public static void refreshPlacements(DbExecute tx, String publisherId) {
        for (DbRow p : Database.list(tx, "domain-placements-of-publisher", publisherId)) {
            String domain = Database.str(p, "domain");
            boolean ok = covered(tx, publisherId, domain);
            String reason = Database.str(p, "suspended_reason");
            if (ok && reason != null) {
                tx.namedUpdate("placement-clear-suspended", Database.str(p, "id"));
            } else if (!ok && reason == null) {
                tx.namedUpdate("placement-set-suspended",
                        "the domain " + DomainNames.display(domain) + " is no longer verified",
                        Database.str(p, "id"));
            }
        }
    }
}
