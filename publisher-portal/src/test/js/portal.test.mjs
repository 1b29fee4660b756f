import { test } from "node:test";
import assert from "node:assert/strict";
import { b64url, fromB64url } from "../../main/js/portal/webauthn.js";
import { placementBadge, placementFacts } from "../../main/js/portal/placements.js";
import { barHeights } from "../../main/js/portal/dashboard.js";
import { embedScript } from "../../main/js/portal/account.js";

test("base64url has no padding and round-trips every byte", () => {
  const all = Uint8Array.from({length: 256}, (_v, i) => i);
  assert.equal(b64url(new Uint8Array([251, 255, 191])), "-_-_");
  assert.equal(b64url(new Uint8Array([1, 2])), "AQI");
  assert.equal(b64url(new Uint8Array([1, 2]).buffer), "AQI");
  assert.deepEqual(new Uint8Array(fromB64url(b64url(all))), all);
  assert.deepEqual(new Uint8Array(fromB64url("AQI")), new Uint8Array([1, 2]));
});

test("a placement card lists where it runs, its share and its limits", () => {
  assert.deepEqual(placementFacts({domain: "news.example", path_prefix: "/blog", page_id: "home",
    publisher_share_bps: 2050, limits: {cpu_share: 0.5, gpu: false, bandwidth_kbps: 512, memory_mb: 1024},
    allowed_origins: ["https://news.example", "https://www.news.example"]}), [
    ["Where", "news.example/blog"], ["Page id", "home"], ["Your share", "20.50 %"],
    ["Limits", "CPU 50 %, GPU off, 512 kbit/s, 1024 MB"],
    ["Allowed origins", "https://news.example https://www.news.example"]]);
  assert.deepEqual(placementFacts({publisher_share_bps: 0, limits: {cpu_share: 1, gpu: true}}), [
    ["Where", "–"], ["Page id", "–"], ["Your share", "0.00 %"], ["Limits", "CPU 100 %, GPU on"],
    ["Allowed origins", "none"]]);
});

test("a placement's badge says whether it runs, and why not when suspended", () => {
  assert.equal(placementBadge({status: "active"}), "Active");
  assert.equal(placementBadge({status: "paused"}), "Paused");
  assert.equal(placementBadge({status: "suspended"}), "Suspended: its domain is not verified");
  assert.equal(placementBadge({status: "suspended", suspended_reason: "DNS record gone"}),
    "Suspended: DNS record gone");
});

test("chart bars are proportional and at least 2 px, flat when nothing was earned", () => {
  assert.deepEqual(barHeights([0, 0, 0], 160), [0, 0, 0]);
  assert.deepEqual(barHeights([0, 1, 75, 150], 160), [2, 2, 75, 150]);
});

test("the network table's embed code loads embed.js for the placement", () => {
  assert.equal(embedScript("https://earnidle.example", "demo-placement"),
    '<script src="https://earnidle.example/embed.js" data-placement="demo-placement" async></script>');
});

test("stored names reach the portal's page only as text: its scripts have no HTML sink", async () => {
  // names (placements, domains, accounts, API keys) are shown with textContent; an HTML sink would turn a stored
  // name into markup (issue 23's stored XSS attack, docs/security.md)
  const {readdirSync, readFileSync, statSync} = await import("node:fs");
  const {join} = await import("node:path");
  const {fileURLToPath} = await import("node:url");
  const root = fileURLToPath(new URL("../../main/js/", import.meta.url));
  const files = [];
  const walk = (dir) => readdirSync(dir).forEach((n) => {
    const p = join(dir, n);
    if (n === "node_modules") { return; }
    if (statSync(p).isDirectory()) { walk(p); } else if (n.endsWith(".js")) { files.push(p); }
  });
  walk(root);
  assert.ok(files.length >= 5, files.join(" "));
  const sink = /\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|srcdoc|createContextualFragment|DOMParser/;
  for (const f of files) {
    const found = readFileSync(f, "utf8").split("\n").filter((line) => sink.test(line));
    assert.deepEqual(found, [], f);
  }
});
