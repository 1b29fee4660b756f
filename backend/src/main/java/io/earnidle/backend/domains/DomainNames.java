package io.earnidle.backend.domains;

import java.net.IDN;
import java.util.Locale;
import java.util.regex.Pattern;

import io.earnidle.backend.http.Problem;

/**
 * Domain name normalisation: internationalized names are converted to their ASCII (IDNA, punycode) form and
 * lower-cased, so that {@code bücher.example}, {@code BÜCHER.example.} and {@code xn--bcher-kva.example} are the
 * same domain everywhere (storage, comparison, DNS queries, origins).
 */
public final class DomainNames {
    /** The TXT record's owner name is this label followed by the domain. */
    public static final String CHALLENGE_LABEL = "_earnidle-challenge";
    /** The TXT record's value is this prefix followed by the token. */
    public static final String VALUE_PREFIX = "earnidle-verify=";

    private static final Pattern LABEL = Pattern.compile("[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?");

    private DomainNames() {
    }

    /**
     * The ASCII, lower-case form of a host name a publisher typed (400 with a clear reason when it is not a valid
     * registrable domain name: URLs, IP addresses, single labels, bad characters).
     */
    public static String normalize(String input) {
        if (input == null) {
            throw Problem.validation("domain is required");
        }
        String s = input.strip();
        if (s.endsWith(".")) {
            s = s.substring(0, s.length() - 1);
        }
        if (s.isEmpty()) {
            throw Problem.validation("domain must not be empty");
        }
        if (s.contains("://") || s.contains("/") || s.contains(":") || s.contains("@") || s.contains(" ")) {
            throw Problem.validation("domain must be a bare host name like example.com, not a URL: \"" + input + "\"");
        }
        String ascii;
        try {
            ascii = IDN.toASCII(s, IDN.USE_STD3_ASCII_RULES).toLowerCase(Locale.ROOT);
        } catch (IllegalArgumentException e) {
            throw Problem.validation("domain \"" + input + "\" is not a valid internationalized domain name: "
                    + e.getMessage());
        }
        if (ascii.length() > 253) {
            throw Problem.validation("domain must be at most 253 characters in its ASCII form");
        }
        String[] labels = ascii.split("\\.", -1);
        if (labels.length < 2) {
            throw Problem.validation("domain \"" + input + "\" needs at least two labels, like example.com");
        }
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) {
                throw Problem.validation("domain \"" + input + "\" has an invalid label \"" + label + "\"");
            }
        }
        if (labels[labels.length - 1].chars().allMatch(Character::isDigit)) {
            throw Problem.validation("domain \"" + input + "\" looks like an IP address; only domain names can be verified");
        }
        return ascii;
    }

    /** The Unicode form for display (the ASCII form when it has none). */
    public static String display(String ascii) {
        try {
            return IDN.toUnicode(ascii, IDN.USE_STD3_ASCII_RULES);
        } catch (IllegalArgumentException e) {
            return ascii;
        }
    }

    /** The owner name of the challenge record. */
    public static String recordName(String asciiDomain) {
        return CHALLENGE_LABEL + "." + asciiDomain;
    }

    public static String recordValue(String token) {
        return VALUE_PREFIX + token;
    }

    /** True when {@code host} is {@code parent} or below it (both normalised). */
    public static boolean isSameOrBelow(String host, String parent) {
        return host.equals(parent) || host.endsWith("." + parent);
    }
}
