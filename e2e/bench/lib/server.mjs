// Static server for the bench pages on 127.0.0.1 (ephemeral port), cross-origin isolated (COOP/COEP) so that
// SharedArrayBuffer and wasm threads work. Routes: "/<prefix>/..." -> a directory, "/models/<name>" -> a file.
import fs from "node:fs";
import http from "node:http";
import path from "node:path";

const TYPES = {
  ".html": "text/html; charset=utf-8", ".js": "text/javascript", ".mjs": "text/javascript",
  ".wasm": "application/wasm", ".json": "application/json", ".css": "text/css", ".wgsl": "text/plain",
  ".svg": "image/svg+xml", ".png": "image/png", ".gguf": "application/octet-stream",
};

/**
 * @param {{dirs: Record<string, string|string[]>, files?: Record<string, string>}} routes
 *   dirs: URL prefix (e.g. "/bench/") -> directory or list of directories tried in order;
 *   files: exact URL path -> file
 */
export async function startServer(routes) {
  const server = http.createServer((req, res) => {
    const headers = {
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cross-Origin-Resource-Policy": "same-origin",
      "Cache-Control": "no-store",
    };
    const url = new URL(req.url, "http://x");
    const p = decodeURIComponent(url.pathname);
    let file = routes.files?.[p];
    if (!file) {
      for (const [prefix, dirs] of Object.entries(routes.dirs)) {
        if (!p.startsWith(prefix)) continue;
        const rel = p.slice(prefix.length);
        for (const dir of [].concat(dirs)) {
          const f = path.resolve(dir, rel);
          if (f.startsWith(path.resolve(dir) + path.sep) && fs.existsSync(f) && fs.statSync(f).isFile()) {
            file = f;
            break;
          }
        }
        if (file) break;
      }
    }
    if (!file) {
      res.writeHead(404, { ...headers, "Content-Type": "text/plain" });
      res.end(`not found: ${p}\n`);
      return;
    }
    const size = fs.statSync(file).size;
    headers["Content-Type"] = TYPES[path.extname(file)] || "application/octet-stream";
    headers["Accept-Ranges"] = "bytes";
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range || "");
    let start = 0, end = size - 1, status = 200;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start > end) {
        res.writeHead(416, { ...headers, "Content-Range": `bytes */${size}` });
        res.end();
        return;
      }
      status = 206;
      headers["Content-Range"] = `bytes ${start}-${end}/${size}`;
    }
    headers["Content-Length"] = String(end - start + 1);
    res.writeHead(status, headers);
    if (req.method === "HEAD") { res.end(); return; }
    fs.createReadStream(file, { start, end, highWaterMark: 1 << 20 }).pipe(res);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return {
    origin,
    close: () => new Promise((resolve) => { server.closeAllConnections?.(); server.close(resolve); }),
  };
}
