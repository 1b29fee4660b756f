package io.earnidle.backend;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import io.earnidle.backend.wallets.SiweMessage;
import io.earnidle.backend.wallets.WalletSettings;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import org.junit.jupiter.api.Test;
import org.web3j.crypto.Credentials;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The SIWE domain comes from configuration, not from the request (issue 23, docs/security.md): with
 * {@code earnidle.public-origin} set, a message made for a forged {@code Host} is refused even when the request
 * carries that Host; outside demo mode the origin is required.
 */
class SiweDomainTest {
    /** A raw HTTP/1.1 POST with the Host header the test chooses (clients set their own). */
    private static String[] post(int port, String host, String path, String json) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            OutputStream out = s.getOutputStream();
            out.write(("POST " + path + " HTTP/1.1\r\nHost: " + host + "\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            s.setSoTimeout(30_000);
            InputStream in = s.getInputStream();
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    break;
                }
                head.append((char) b);
            }
            int length = 0;
            boolean chunked = false;
            for (String line : head.toString().split("\r\n")) {
                String l = line.toLowerCase(java.util.Locale.ROOT);
                if (l.startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).strip());
                }
                chunked |= l.startsWith("transfer-encoding:") && l.contains("chunked");
            }
            String status = head.substring(9, 12);
            if (!chunked) {
                return new String[] {status, new String(in.readNBytes(length), StandardCharsets.UTF_8)};
            }
            java.io.ByteArrayOutputStream bodyBytes = new java.io.ByteArrayOutputStream();
            while (true) {
                StringBuilder size = new StringBuilder();
                for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
                    size.append((char) b);
                }
                int n = Integer.parseInt(size.toString().strip(), 16);
                if (n == 0) {
                    return new String[] {status, bodyBytes.toString(StandardCharsets.UTF_8)};
                }
                bodyBytes.write(in.readNBytes(n));
                in.readNBytes(2); // CRLF after the chunk
            }
        }
    }

    private static String[] signIn(int port, String host, Credentials key, String domain, String nonce)
            throws Exception {
        SiweMessage m = WalletTestSupport.siwe(key, domain, 1337, nonce, Instant.now());
        String text = m.format();
        return post(port, host, "/api/wallets/siwe/verify", """
                {"message":%s,"signature":"%s"}""".formatted(TestSupport.quote(text),
                WalletTestSupport.personalSign(key, text)));
    }

    @Test
    void aForgedHostCannotChooseTheSiweDomain() throws Exception {
        Path dir = TestSupport.tempDir();
        try (EarnIdleServer s = EarnIdleServer.start(TestSupport.config(dir, Map.of("server.port", "0",
                "server.host", "127.0.0.1", "earnidle.public-origin", "https://earnidle.example")))) {
            String[] n = post(s.port(), "evil.example", "/api/wallets/siwe/nonce", "{}");
            assertEquals("201", n[0], n[1]);
            JsonNode nonce = TestSupport.MAPPER.readTree(n[1]);
            assertEquals("earnidle.example", nonce.path("domain").asText(), "the configured origin, not the Host");

            Credentials key = WalletTestSupport.newKey();
            String[] forged = signIn(s.port(), "evil.example", key, "evil.example", nonce.path("nonce").asText());
            assertEquals("401", forged[0], forged[1]);
            assertTrue(forged[1].contains("not this site's domain"), forged[1]);

            String[] fresh = post(s.port(), "evil.example", "/api/wallets/siwe/nonce", "{}");
            String[] good = signIn(s.port(), "evil.example", key, "earnidle.example",
                    TestSupport.MAPPER.readTree(fresh[1]).path("nonce").asText());
            assertEquals("200", good[0], good[1]);
        } finally {
            TestSupport.deleteTree(dir);
        }
    }

    @Test
    void productionRequiresThePublicOrigin() {
        Config production = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .sources(ConfigSources.create(Map.of("earnidle.mode", "production"))).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WalletSettings.forSite(production.get("earnidle")));
        assertTrue(e.getMessage().contains("public-origin"), e.getMessage());

        Config demo = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .sources(ConfigSources.create(Map.of("earnidle.mode", "demo"))).build();
        assertEquals("", WalletSettings.forSite(demo.get("earnidle")).siweDomain(), "demo: the request's Host");

        Config origin = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                .sources(ConfigSources.create(Map.of("earnidle.mode", "production",
                        "earnidle.public-origin", "https://EarnIdle.example:8443"))).build();
        assertEquals("earnidle.example:8443", WalletSettings.forSite(origin.get("earnidle")).siweDomain());
    }
}
