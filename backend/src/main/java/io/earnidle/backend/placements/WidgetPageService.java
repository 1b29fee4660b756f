package io.earnidle.backend.placements;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

import io.earnidle.backend.db.Database;
import io.helidon.dbclient.DbRow;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code GET /widget/?placement=<id>&host=<origin>}: the widget page (widget-embed's {@code web/widget/index.html})
 * with {@code Content-Security-Policy: frame-ancestors} listing only that placement's verified origins, so browsers
 * refuse to show it anywhere else. When the {@code host} the loader reports is not one of them (or the placement is
 * unknown, paused or suspended) a script-free notice is served instead, which politely says that nothing will run here; it
 * contains no consent button and can be framed anywhere.
 */
public record WidgetPageService(Database db) implements HttpService {
    private static final HttpMediaType HTML = HttpMediaType.create("text/html; charset=utf-8");

    @Override
    public void routing(HttpRules rules) {
        rules.get("/", this::page).get("/index.html", this::page);
    }

    private void page(ServerRequest req, ServerResponse res) {
        if (!req.path().absolute().path().endsWith("/") && !req.path().path().equals("/index.html")) {
            res.next(); // the mount also matches "/widget" without its slash: left to the static files, as before
            return;
        }
        String placementId = req.query().first("placement").orElse("");
        String host = req.query().first("host").orElse(null);
        DbRow row = placementId.isEmpty() || placementId.length() > 64 ? null
                : Database.get(db.execute(), "placement-full", placementId).orElse(null);
        if (placementId.isEmpty()) {
            refuse(res, Status.OK_200, "This widget was embedded without a placement id, so it will not start."
                    + " Nothing runs here.");
            return;
        }
        if (row == null) {
            refuse(res, Status.NOT_FOUND_404, "This widget was embedded with an unknown placement id, so it will not"
                    + " start. Nothing runs here.");
            return;
        }
        List<String> origins = Origins.allowed(row);
        if (host != null && !Origins.matches(host, origins)) {
            String why = Database.str(row, "suspended_reason") != null
                    ? "Earn Idle is suspended for this placement until its owner re-verifies the site's domain."
                    : "Earn Idle is not enabled for " + host + " with this placement.";
            refuse(res, Status.OK_200, why + " Nothing will run here, and nothing was downloaded or stored.");
            return;
        }
        if ("paused".equals(Database.str(row, "status"))) {
            refuse(res, Status.OK_200, "The site's owner has paused Earn Idle here for now. Nothing will run, and"
                    + " nothing was downloaded or stored.");
            return;
        }
        res.headers().set(HeaderNames.create("Content-Security-Policy"),
                "frame-ancestors " + (origins.isEmpty() ? "'none'" : String.join(" ", origins)));
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        res.headers().set(HeaderNames.create("X-Content-Type-Options"), "nosniff");
        res.headers().contentType(HTML);
        res.status(Status.OK_200).send(widgetHtml());
    }

    private static byte[] widgetHtml() {
        try (InputStream in = WidgetPageService.class.getClassLoader().getResourceAsStream("web/widget/index.html")) {
            if (in == null) {
                throw new IllegalStateException("web/widget/index.html is missing from the classpath (widget-embed)");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void refuse(ServerResponse res, Status status, String message) {
        String html = """
                <!doctype html>
                <html lang="en">
                <head>
                  <meta charset="utf-8">
                  <meta name="viewport" content="width=device-width, initial-scale=1">
                  <title>Earn Idle</title>
                  <link rel="stylesheet" href="/widget/widget.css">
                </head>
                <body>
                <main>
                  <section id="refused" aria-labelledby="refused-title">
                    <h1 id="refused-title">Earn Idle is not available here</h1>
                    <p id="refusal-message" class="message" role="status">%s</p>
                  </section>
                </main>
                </body>
                </html>
                """.formatted(escape(message));
        res.headers().set(HeaderNames.create("Content-Security-Policy"),
                "default-src 'none'; style-src 'self'; frame-ancestors *");
        res.headers().set(HeaderNames.CACHE_CONTROL, "no-store");
        res.headers().set(HeaderNames.create("X-Content-Type-Options"), "nosniff");
        res.headers().contentType(HTML);
        res.status(status).send(html.getBytes(StandardCharsets.UTF_8));
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '&' -> sb.append("&amp;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }
}
