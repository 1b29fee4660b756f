// Headless Chromium driven over the DevTools protocol on a pipe (--remote-debugging-pipe): no puppeteer, no
// browser download, no open debugging port. Flags from the project's one flags file (FLAGS_FILE below); a fresh
// profile per launch.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const CHROME_BIN = process.env.CHROME_BIN || "/usr/bin/chromium";

/**
 * The project's one Chromium flags file, one flag per line (# comments): browser-node's main resource, read by
 * BrowserInfer (./earnidle infer) from the classpath and by test-support's ChromiumFlags (the Selenium tests).
 */
export const FLAGS_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)),
  "../../../browser-node/src/main/resources/io/earnidle/node/cli/chromium-flags.txt");

/** The headless flags (WebGPU on SwiftShader on a GPU-less machine), from FLAGS_FILE. */
export const HEADLESS_FLAGS = fs.readFileSync(FLAGS_FILE, "utf8").split("\n").map((l) => l.trim())
  .filter((l) => l && !l.startsWith("#"));

/**
 * Flags added on a machine with a real GPU (headless Linux: WebGPU through Vulkan). Not verifiable on the GPU-less
 * development machine; bench.mjs --gpu fails fast when the adapter it gets is still a fallback one.
 */
export const GPU_EXTRA_FLAGS = ["--ignore-gpu-blocklist", "--enable-features=Vulkan,VulkanFromANGLE,DefaultANGLEVulkan",
  "--use-angle=vulkan"];
export const GPU_FLAGS = [...HEADLESS_FLAGS.filter((f) => f !== "--enable-unsafe-swiftshader"), ...GPU_EXTRA_FLAGS];

export class Chromium {
  /** @param {{gpu?: boolean, extraFlags?: string[], windowSize?: string}} opts */
  static async launch(opts = {}) {
    const profile = fs.mkdtempSync(path.join(os.tmpdir(), "earnidle-bench-chromium-"));
    const flags = [...(opts.gpu ? GPU_FLAGS : HEADLESS_FLAGS), `--user-data-dir=${profile}`,
      `--window-size=${opts.windowSize || "1280,900"}`, "--remote-debugging-pipe", ...(opts.extraFlags || []),
      "about:blank"];
    // Chromium's temporary files (its single-instance socket folder, left behind when it is killed) go inside the
    // profile, removed with it by close()
    const proc = spawn(CHROME_BIN, flags, { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"],
      env: { ...process.env, TMPDIR: profile } });
    const c = new Chromium(proc, profile);
    proc.stderr.on("data", (d) => { c.stderrTail = (c.stderrTail + d.toString()).slice(-4000); });
    await c.send("Target.setDiscoverTargets", { discover: true });
    return c;
  }

  constructor(proc, profile) {
    this.proc = proc;
    this.profile = profile;
    this.stderrTail = "";
    this.nextId = 1;
    this.pending = new Map();
    this.listeners = [];
    this.closed = false;
    let buf = Buffer.alloc(0);
    const out = proc.stdio[4];
    out.on("data", (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      let z;
      while ((z = buf.indexOf(0)) >= 0) {
        const msg = JSON.parse(buf.subarray(0, z).toString("utf8"));
        buf = buf.subarray(z + 1);
        this.#dispatch(msg);
      }
    });
    proc.on("exit", (code, signal) => {
      this.closed = true;
      for (const { reject } of this.pending.values()) {
        reject(new Error(`chromium exited (${code ?? signal}); stderr tail:\n${this.stderrTail}`));
      }
      this.pending.clear();
    });
  }

  get pid() { return this.proc.pid; }

  #dispatch(msg) {
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.reject(new Error(`${p.method}: ${msg.error.message} ${msg.error.data || ""}`));
      else p.resolve(msg.result);
    } else {
      for (const l of this.listeners) l(msg);
    }
  }

  send(method, params = {}, sessionId) {
    if (this.closed) return Promise.reject(new Error("chromium is closed"));
    const id = this.nextId++;
    const msg = { id, method, params };
    if (sessionId) msg.sessionId = sessionId;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.proc.stdio[3].write(JSON.stringify(msg) + "\0");
    });
  }

  on(listener) { this.listeners.push(listener); }

  /** Opens a page at url, waits for its load event, and returns a Page. */
  async newPage(url, { width = 1280, height = 900 } = {}) {
    const { targetId } = await this.send("Target.createTarget", { url: "about:blank" });
    const { sessionId } = await this.send("Target.attachToTarget", { targetId, flatten: true });
    const page = new Page(this, sessionId, targetId);
    await page.send("Page.enable");
    await page.send("Runtime.enable");
    await page.send("Emulation.setDeviceMetricsOverride", { width, height, deviceScaleFactor: 1, mobile: false });
    await page.goto(url);
    return page;
  }

  async close() {
    if (!this.closed) {
      const exited = new Promise((r) => this.proc.once("exit", r));
      this.send("Browser.close").catch(() => {});
      const t = setTimeout(() => this.proc.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(this.profile, { recursive: true, force: true });
  }
}

export class Page {
  constructor(browser, sessionId, targetId) {
    this.browser = browser;
    this.sessionId = sessionId;
    this.targetId = targetId;
    this.console = [];
    browser.on((m) => {
      if (m.sessionId !== sessionId) return;
      if (m.method === "Runtime.consoleAPICalled") {
        this.console.push(m.params.args.map((a) => a.value ?? a.description ?? "").join(" "));
        if (this.console.length > 200) this.console.shift();
      } else if (m.method === "Runtime.exceptionThrown") {
        this.console.push("exception: " + (m.params.exceptionDetails.exception?.description
          || m.params.exceptionDetails.text));
      }
    });
  }

  send(method, params = {}) { return this.browser.send(method, params, this.sessionId); }

  async goto(url) {
    const loaded = new Promise((resolve) => {
      const l = (m) => { if (m.sessionId === this.sessionId && m.method === "Page.loadEventFired") resolve(); };
      this.browser.on(l);
    });
    const r = await this.send("Page.navigate", { url });
    if (r.errorText) throw new Error(`navigate ${url}: ${r.errorText}`);
    await loaded;
  }

  /** Evaluates an expression (awaiting a promise) and returns its JSON value; page exceptions become errors. */
  async evaluate(expression) {
    const r = await this.send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`page: ${d.exception?.description || d.text}`);
    }
    return r.result.value;
  }

  /** PNG bytes of the page's viewport (or a clip {x,y,width,height}). */
  async screenshot(clip) {
    const params = { format: "png" };
    if (clip) params.clip = { ...clip, scale: 1 };
    const { data } = await this.send("Page.captureScreenshot", params);
    return Buffer.from(data, "base64");
  }
}
