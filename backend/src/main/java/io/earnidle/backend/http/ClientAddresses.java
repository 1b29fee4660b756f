package io.earnidle.backend.http;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import io.helidon.config.Config;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;

/**
 * The address a request came from, for per-client limits (sign-in lockout, sign-up and registration limits). It is
 * the TCP peer, unless the peer is one of {@code earnidle.trusted-proxies} (addresses or CIDR blocks): then it is
 * the right-most {@code X-Forwarded-For} entry that is not itself a trusted proxy. A client can put anything in
 * {@code X-Forwarded-For}, so the header is read only from trusted proxies and only from the right (the entries
 * the proxies appended); without trusted proxies it is ignored.
 */
public final class ClientAddresses {
    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private static final Pattern IPV6 = Pattern.compile("\\[?[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(%[0-9a-zA-Z]+)?]?");

    private record Block(byte[] network, int bits) {
        boolean contains(byte[] address) {
            if (address.length != network.length) {
                return false;
            }
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >>> (i % 8);
                if ((address[i / 8] & mask) != (network[i / 8] & mask)) {
                    return false;
                }
            }
            return true;
        }
    }

    private final List<Block> trusted;

    private ClientAddresses(List<Block> trusted) {
        this.trusted = trusted;
    }

    /** From {@code earnidle.trusted-proxies} (a list; empty = the TCP peer is the client). */
    public static ClientAddresses from(Config earnidle) {
        List<Block> blocks = new ArrayList<>();
        for (String entry : earnidle.get("trusted-proxies").asList(String.class).orElse(List.of())) {
            String e = entry.strip();
            if (e.isEmpty()) {
                continue;
            }
            int slash = e.indexOf('/');
            byte[] network = literal(slash < 0 ? e : e.substring(0, slash));
            if (network == null) {
                throw new IllegalArgumentException("earnidle.trusted-proxies: not an IP address or CIDR block: " + e);
            }
            int bits = network.length * 8;
            if (slash >= 0) {
                try {
                    bits = Integer.parseInt(e.substring(slash + 1));
                } catch (NumberFormatException nfe) {
                    bits = -1;
                }
                if (bits < 0 || bits > network.length * 8) {
                    throw new IllegalArgumentException("earnidle.trusted-proxies: bad prefix length in " + e);
                }
            }
            blocks.add(new Block(network, bits));
        }
        return new ClientAddresses(List.copyOf(blocks));
    }

    /** The client's address: see the class comment. */
    public String of(ServerRequest req) {
        String peer = req.remotePeer().host();
        if (trusted.isEmpty() || !isTrusted(peer)) {
            return peer;
        }
        List<String> hops = new ArrayList<>();
        for (String value : req.headers().all(HeaderNames.X_FORWARDED_FOR, List::of)) {
            for (String part : value.split(",")) {
                hops.add(part.strip());
            }
        }
        String nearest = peer;
        for (int i = hops.size() - 1; i >= 0; i--) {
            String hop = hops.get(i);
            if (literal(hop) == null) {
                return nearest; // not an address: what the proxy nearest to it received it from is all we know
            }
            if (!isTrusted(hop)) {
                return hop;
            }
            nearest = hop;
        }
        return nearest;
    }

    private boolean isTrusted(String address) {
        byte[] a = literal(address);
        return a != null && trusted.stream().anyMatch(b -> b.contains(a));
    }

    /** The bytes of an IP literal, or null for anything else (never a DNS lookup). */
    static byte[] literal(String s) {
        if (s == null || s.isEmpty() || s.length() > 64 || !(IPV4.matcher(s).matches() || IPV6.matcher(s).matches())) {
            return null;
        }
        try {
            byte[] a = InetAddress.getByName(s).getAddress();
            if (a.length == 16 && isV4Mapped(a)) {
                byte[] v4 = new byte[4];
                System.arraycopy(a, 12, v4, 0, 4);
                return v4;
            }
            return a;
        } catch (UnknownHostException | SecurityException e) {
            return null;
        }
    }

    private static boolean isV4Mapped(byte[] a) {
        for (int i = 0; i < 10; i++) {
            if (a[i] != 0) {
                return false;
            }
        }
        return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
    }
}
