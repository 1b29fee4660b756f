package io.earnidle.backend.placements;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbRow;

/**
 * The origins a placement may be embedded on, as CSP source expressions ({@code scheme://host:port}, port may be
 * {@code *}): {@code http(s)://<domain>:*} when its domain is verified (not suspended), plus origins verified by
 * configuration (the demo placement only).
 */
public final class Origins {
    private Origins() {
    }

    public static List<String> allowed(DbRow placement) {
        Set<String> out = new LinkedHashSet<>();
        String config = Database.str(placement, "config_origins");
        if (config != null && !config.isBlank()) {
            for (String o : config.split("\\s+")) {
                if (!o.isBlank()) {
                    out.add(o);
                }
            }
        }
        String domain = Database.str(placement, "domain");
        if (domain != null && Database.str(placement, "suspended_reason") == null) {
            out.add("https://" + domain + ":*");
            out.add("http://" + domain + ":*");
        }
        return new ArrayList<>(out);
    }

    /** Whether {@code origin} ({@code scheme://host[:port]}) matches one of the patterns. */
    public static boolean matches(String origin, List<String> patterns) {
        Parsed o = parse(origin, false);
        if (o == null) {
            return false;
        }
        for (String pattern : patterns) {
            Parsed p = parse(pattern, true);
            if (p != null && p.scheme.equals(o.scheme) && p.host.equals(o.host)
                    && (p.port.equals("*") || p.port.equals(o.port))) {
                return true;
            }
        }
        return false;
    }

    private record Parsed(String scheme, String host, String port) {
    }

    private static Parsed parse(String s, boolean allowWildcardPort) {
        if (s == null) {
            return null;
        }
        try {
            String text = s.strip();
            boolean wildcard = allowWildcardPort && text.endsWith(":*");
            URI uri = URI.create(wildcard ? text.substring(0, text.length() - 2) : text);
            String scheme = uri.getScheme();
            String host = uri.getHost();
            if (scheme == null || host == null || (uri.getPath() != null && !uri.getPath().isEmpty()
                    && !uri.getPath().equals("/")) || uri.getQuery() != null || uri.getUserInfo() != null) {
                return null;
            }
            scheme = scheme.toLowerCase(Locale.ROOT);
            int port = uri.getPort() >= 0 ? uri.getPort() : scheme.equals("https") ? 443 : scheme.equals("http") ? 80 : -1;
            return new Parsed(scheme, host.toLowerCase(Locale.ROOT), wildcard ? "*" : String.valueOf(port));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
