package io.earnidle.backend.models;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import io.earnidle.backend.db.Database;
import io.earnidle.backend.http.Problem;
import io.helidon.http.HeaderNames;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/** {@code GET /models/{id}.gguf}: the model files, with single byte ranges so that a node can resume. */
public record ModelFileService(Database db, Models models) implements HttpService {
    @Override
    public void routing(HttpRules rules) {
        rules.get("/{file}", this::download);
    }

    private void download(ServerRequest req, ServerResponse res) {
        String file = req.path().pathParameters().get("file");
        if (!file.endsWith(".gguf")) {
            throw Problem.notFound("no model file " + file);
        }
        String id = file.substring(0, file.length() - ".gguf".length());
        Models.Model m = models.find(db.execute(), id)
                .orElseThrow(() -> Problem.notFound("no model " + id));
        Path path = models.dir().resolve(m.fileName());
        try {
            long size = Files.size(path);
            String etag = "\"" + m.sha256() + "\"";
            long[] range = req.headers().first(HeaderNames.RANGE)
                    .filter(r -> req.headers().first(HeaderNames.IF_RANGE).map(etag::equals).orElse(true))
                    .map(r -> byteRange(r, size)).orElse(null);
            res.headers().contentType(HttpMediaType.create("application/octet-stream"));
            res.headers().set(HeaderNames.ETAG, etag);
            res.headers().set(HeaderNames.ACCEPT_RANGES, "bytes");
            res.headers().set(HeaderNames.CACHE_CONTROL, "public, max-age=3600");
            if (range != null && range.length == 0) {
                res.status(Status.REQUESTED_RANGE_NOT_SATISFIABLE_416);
                res.headers().set(HeaderNames.CONTENT_RANGE, "bytes */" + size);
                res.send();
                return;
            }
            long from = range == null ? 0 : range[0];
            long to = range == null ? size - 1 : range[1];
            res.status(range == null ? Status.OK_200 : Status.PARTIAL_CONTENT_206);
            if (range != null) {
                res.headers().set(HeaderNames.CONTENT_RANGE, "bytes " + from + "-" + to + "/" + size);
            }
            res.headers().contentLength(to - from + 1);
            try (FileChannel ch = FileChannel.open(path);
                 OutputStream out = res.outputStream()) {
                ch.position(from);
                InputStream in = Channels.newInputStream(ch);
                byte[] buf = new byte[65_536];
                long left = to - from + 1;
                while (left > 0) {
                    int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                    if (n < 0) {
                        throw new IOException("model file shrank while being served");
                    }
                    out.write(buf, 0, n);
                    left -= n;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A single {@code bytes=a-b}, {@code bytes=a-} or {@code bytes=-n} range of a {@code size}-byte file (RFC 9110
     * 14.1.2): {@code {from, to}} inclusive, an empty array when it cannot be satisfied, or null to ignore the header
     * (malformed, or several ranges) and send the whole file.
     */
    static long[] byteRange(String header, long size) {
        String h = header.trim();
        if (!h.startsWith("bytes=") || h.indexOf(',') >= 0) {
            return null;
        }
        String spec = h.substring(6).trim();
        int dash = spec.indexOf('-');
        if (dash < 0) {
            return null;
        }
        String a = spec.substring(0, dash).trim();
        String b = spec.substring(dash + 1).trim();
        if (!a.matches("\\d{1,18}") && !a.isEmpty() || !b.matches("\\d{1,18}") && !b.isEmpty() || a.isEmpty() && b.isEmpty()) {
            return null;
        }
        if (a.isEmpty()) { // the last n bytes
            long n = Long.parseLong(b);
            return n == 0 || size == 0 ? new long[0] : new long[] {Math.max(0, size - n), size - 1};
        }
        long from = Long.parseLong(a);
        long to = b.isEmpty() ? size - 1 : Math.min(Long.parseLong(b), size - 1);
        if (!b.isEmpty() && Long.parseLong(b) < from) {
            return null;
        }
        return from >= size ? new long[0] : new long[] {from, to};
    }
}
