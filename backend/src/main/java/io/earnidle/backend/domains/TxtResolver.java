package io.earnidle.backend.domains;

import java.io.IOException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedResolver;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.TextParseException;
import org.xbill.DNS.Type;

/**
 * TXT lookups through dnsjava, uncached (every "Check now" and re-check asks the server again). The resolver is the
 * system's (from /etc/resolv.conf or the platform) unless {@code earnidle.dns.resolver} names {@code host:port}.
 */
public final class TxtResolver {
    /**
     * What the resolver answered.
     *
     * @param rcode  the DNS response code name (NOERROR, NXDOMAIN, SERVFAIL, REFUSED …), or TIMEOUT / ERROR
     * @param values the TXT records' values (each record's character-strings joined), in answer order
     * @param error  a description when the query itself failed, else null
     */
    public record Answer(String rcode, List<String> values, String error) {
        /** A short description of what was seen, for error messages and the portal. */
        public String describe() {
            if (error != null) {
                return rcode + " (" + error + ")";
            }
            if (values.isEmpty()) {
                return rcode + " with no TXT records";
            }
            StringBuilder sb = new StringBuilder(rcode).append(" with TXT ");
            for (int i = 0; i < values.size(); i++) {
                sb.append(i == 0 ? "" : ", ").append('"').append(values.get(i)).append('"');
            }
            return sb.toString();
        }
    }

    private final Resolver resolver;
    private final String description;

    /** Over any dnsjava resolver; tests hand in one that answers from memory. */
    TxtResolver(Resolver resolver, String description) {
        this.resolver = resolver;
        this.description = description;
    }

    /**
     * @param hostPort empty or blank for the system resolver, else {@code host:port} (or {@code host}, port 53)
     */
    public static TxtResolver create(String hostPort, Duration timeout) {
        try {
            Resolver r;
            String desc;
            if (hostPort == null || hostPort.isBlank()) {
                r = new ExtendedResolver();
                desc = "system resolver";
            } else {
                String host = hostPort.strip();
                int port = 53;
                int colon = host.lastIndexOf(':');
                if (colon > 0 && host.indexOf(':') == colon) {
                    port = Integer.parseInt(host.substring(colon + 1));
                    host = host.substring(0, colon);
                }
                SimpleResolver simple = new SimpleResolver(host);
                simple.setPort(port);
                r = simple;
                desc = host + ":" + port;
            }
            r.setTimeout(timeout);
            return new TxtResolver(r, desc);
        } catch (UnknownHostException | NumberFormatException e) {
            throw new IllegalArgumentException("earnidle.dns.resolver must be host:port, got " + hostPort, e);
        }
    }

    public String description() {
        return description;
    }

    /** Queries the TXT records of {@code asciiName}. Never throws: failures are in the answer. */
    public Answer txt(String asciiName) {
        Name name;
        try {
            name = Name.fromString(asciiName, Name.root);
        } catch (TextParseException e) {
            return new Answer("ERROR", List.of(), "invalid name " + asciiName);
        }
        Message response;
        try {
            response = resolver.send(Message.newQuery(Record.newRecord(name, Type.TXT, DClass.IN)));
        } catch (IOException e) {
            return new Answer("TIMEOUT", List.of(), "no answer from " + description + ": " + e.getMessage());
        } catch (RuntimeException e) {
            return new Answer("ERROR", List.of(), "query through " + description + " failed: " + e);
        }
        int rcode = response.getRcode();
        List<String> values = new ArrayList<>();
        for (Record rec : response.getSection(Section.ANSWER)) {
            if (rec instanceof TXTRecord txt && rec.getName().equals(name)) {
                values.add(String.join("", txt.getStrings()));
            }
        }
        return new Answer(Rcode.string(rcode), List.copyOf(values), null);
    }
}
