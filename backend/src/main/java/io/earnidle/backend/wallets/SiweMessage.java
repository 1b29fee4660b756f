package io.earnidle.backend.wallets;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Sign-In with Ethereum message (EIP-4361), parsed strictly from and formatted to its text form:
 * <pre>
 * {domain} wants you to sign in with your Ethereum account:
 * {address (EIP-55)}
 *
 * {statement}
 *
 * URI: {uri}
 * Version: 1
 * Chain ID: {chain id}
 * Nonce: {nonce}
 * Issued At: {RFC 3339}
 * Expiration Time: {RFC 3339}      (optional)
 * Not Before: {RFC 3339}           (optional)
 * Request ID: {text}               (optional)
 * Resources:                       (optional)
 * - {uri}
 * </pre>
 * {@link #parse} throws {@link IllegalArgumentException} naming the first line that is wrong.
 */
public record SiweMessage(String scheme, String domain, String address, String statement, String uri,
                          String version, long chainId, String nonce, Instant issuedAt, Instant expirationTime,
                          Instant notBefore, String requestId, List<String> resources) {
    private static final Pattern HEADER = Pattern.compile(
            "^(?:([a-zA-Z][a-zA-Z0-9+.-]*)://)?([^\\s/?#]+) wants you to sign in with your Ethereum account:$");
    private static final Pattern NONCE = Pattern.compile("[a-zA-Z0-9]{8,64}");
    private static final int MAX_CHARS = 4096;

    public SiweMessage {
        resources = resources == null ? List.of() : List.copyOf(resources);
    }

    /** Parses the text of a SIWE message. */
    public static SiweMessage parse(String text) {
        if (text == null || text.isEmpty()) {
            throw new IllegalArgumentException("message is empty");
        }
        if (text.length() > MAX_CHARS) {
            throw new IllegalArgumentException("message is longer than " + MAX_CHARS + " characters");
        }
        if (text.indexOf('\r') >= 0) {
            throw new IllegalArgumentException("message lines must end with \\n only");
        }
        String[] lines = text.split("\n", -1);
        Cursor c = new Cursor(lines);
        Matcher header = HEADER.matcher(c.next("header line"));
        if (!header.matches()) {
            throw new IllegalArgumentException("line 1 must be '<domain> wants you to sign in with your Ethereum account:'");
        }
        String scheme = header.group(1);
        String domain = header.group(2);
        String address = c.next("address line");
        try {
            String lower = EthSignatures.normalizeAddress(address, "address (line 2)");
            if (!EthSignatures.checksum(lower).equals(address)) {
                throw new IllegalArgumentException("address (line 2) must be written with its EIP-55 checksum");
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        c.expectEmpty();
        String statement = null;
        if (!c.peek().startsWith("URI: ")) {
            String line = c.next("statement");
            if (!line.isEmpty()) {
                if (line.contains("\n")) {
                    throw new IllegalArgumentException("statement must be one line");
                }
                statement = line;
                c.expectEmpty();
            }
        }
        String uri = c.field("URI");
        String version = c.field("Version");
        if (!"1".equals(version)) {
            throw new IllegalArgumentException("Version must be 1, got '" + version + "'");
        }
        String chain = c.field("Chain ID");
        long chainId;
        try {
            chainId = Long.parseLong(chain);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Chain ID must be a decimal integer, got '" + chain + "'");
        }
        if (chainId <= 0) {
            throw new IllegalArgumentException("Chain ID must be positive");
        }
        String nonce = c.field("Nonce");
        if (!NONCE.matcher(nonce).matches()) {
            throw new IllegalArgumentException("Nonce must be 8 to 64 letters and digits");
        }
        Instant issuedAt = time("Issued At", c.field("Issued At"));
        Instant expiration = c.peekField("Expiration Time") ? time("Expiration Time", c.field("Expiration Time")) : null;
        Instant notBefore = c.peekField("Not Before") ? time("Not Before", c.field("Not Before")) : null;
        String requestId = c.peekField("Request ID") ? c.field("Request ID") : null;
        List<String> resources = new ArrayList<>();
        if (c.hasNext() && c.peek().equals("Resources:")) {
            c.next("Resources");
            while (c.hasNext() && c.peek().startsWith("- ")) {
                resources.add(c.next("resource").substring(2));
            }
        }
        if (c.hasNext()) {
            throw new IllegalArgumentException("unexpected text after the message fields: '" + abbreviate(c.peek()) + "'");
        }
        return new SiweMessage(scheme, domain, address, statement, uri, version, chainId, nonce, issuedAt, expiration,
                notBefore, requestId, resources);
    }

    /** The message text (what the wallet signs). */
    public String format() {
        StringBuilder b = new StringBuilder();
        if (scheme != null) {
            b.append(scheme).append("://");
        }
        b.append(domain).append(" wants you to sign in with your Ethereum account:\n").append(address).append("\n\n");
        if (statement != null) {
            b.append(statement).append("\n\n");
        }
        b.append("URI: ").append(uri).append('\n')
                .append("Version: ").append(version).append('\n')
                .append("Chain ID: ").append(chainId).append('\n')
                .append("Nonce: ").append(nonce).append('\n')
                .append("Issued At: ").append(issuedAt);
        if (expirationTime != null) {
            b.append("\nExpiration Time: ").append(expirationTime);
        }
        if (notBefore != null) {
            b.append("\nNot Before: ").append(notBefore);
        }
        if (requestId != null) {
            b.append("\nRequest ID: ").append(requestId);
        }
        if (!resources.isEmpty()) {
            b.append("\nResources:");
            for (String r : resources) {
                b.append("\n- ").append(r);
            }
        }
        return b.toString();
    }

    private static Instant time(String field, String value) {
        try {
            return OffsetDateTime.parse(value).toInstant();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(field + " must be an RFC 3339 date-time, got '" + abbreviate(value) + "'");
        }
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 60) + "…";
    }

    private static final class Cursor {
        private final String[] lines;
        private int i;

        Cursor(String[] lines) {
            this.lines = lines;
        }

        boolean hasNext() {
            return i < lines.length;
        }

        String peek() {
            return hasNext() ? lines[i] : "";
        }

        boolean peekField(String name) {
            return hasNext() && lines[i].startsWith(name + ": ");
        }

        String next(String what) {
            if (!hasNext()) {
                throw new IllegalArgumentException("message ends before the " + what);
            }
            return lines[i++];
        }

        void expectEmpty() {
            int line = i + 1;
            if (!next("blank line").isEmpty()) {
                throw new IllegalArgumentException("line " + line + " must be empty");
            }
        }

        String field(String name) {
            int line = i + 1;
            String l = next("'" + name + ":' line");
            if (!l.startsWith(name + ": ")) {
                throw new IllegalArgumentException("line " + line + " must be '" + name + ": …'");
            }
            String v = l.substring(name.length() + 2);
            if (v.isBlank()) {
                throw new IllegalArgumentException(name + " is empty");
            }
            return v;
        }
    }
}
