// Peak memory of a process tree, sampled from /proc/PID/status (Linux; cheap: no smaps walk). For each sample, sums
// over the live processes of the tree (refreshed every second; optionally only those whose executable matches a
// filter, e.g. Chromium's under a JVM):
//   anon+shmem: RssAnon + RssShmem, the memory the processes own (heaps, wasm memories, blobs, shared memory);
//               file-backed pages (shared libraries, memory-mapped files) are left out, so libraries mapped by
//               every Chromium process are not counted once per process
//   RSS:        VmRSS (upper bound: file-backed pages counted once per process that maps them)
// and keeps each process's VmHWM (the kernel's exact peak RSS of that process, not sampled).
// Not PSS: smaps_rollup costs ~0.1 s per read for a renderer with a 64-bit wasm memory reservation, which would
// load the machine being measured.
import fs from "node:fs";

const MIB = 1024 * 1024;

function readKb(text, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(text);
  return m ? Number(m[1]) * 1024 : 0;
}

function children() {
  const map = new Map();
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!map.has(ppid)) map.set(ppid, []);
      map.get(ppid).push(Number(name));
    } catch { /* exited */ }
  }
  return map;
}

/** All pids in the tree rooted at pid (pid included). */
export function processTree(pid) {
  const kids = children();
  const out = [];
  const stack = [pid];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    for (const c of kids.get(p) || []) stack.push(c);
  }
  return out;
}

function exeOf(pid) {
  try { return fs.readlinkSync(`/proc/${pid}/exe`); } catch { return ""; }
}

export class TreeMemorySampler {
  /**
   * @param {number} rootPid
   * @param {{intervalMs?: number, exeFilter?: RegExp}} opts exeFilter: count only processes whose /proc/PID/exe
   *   matches (the root's other descendants are still walked)
   */
  constructor(rootPid, { intervalMs = 250, exeFilter } = {}) {
    this.rootPid = rootPid;
    this.exeFilter = exeFilter;
    this.intervalMs = intervalMs;
    this.peakOwn = 0;
    this.peakRss = 0;
    this.hwm = new Map(); // pid -> {hwm, exe}
    this.samples = 0;
    this.timer = null;
    this.pids = [];
    this.exes = new Map();
    this.treeAt = -Infinity;
  }

  sample() {
    // walking all of /proc is the expensive part: refresh the tree once a second, read the known pids every sample
    if (performance.now() - this.treeAt > 1000) {
      this.pids = processTree(this.rootPid);
      this.treeAt = performance.now();
    }
    let own = 0, rss = 0;
    for (const pid of this.pids) {
      if (!this.exes.has(pid)) this.exes.set(pid, exeOf(pid));
      const exe = this.exes.get(pid);
      if (this.exeFilter && !this.exeFilter.test(exe)) continue;
      try {
        const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
        rss += readKb(status, "VmRSS");
        const hwm = readKb(status, "VmHWM");
        const prev = this.hwm.get(pid);
        if (!prev || hwm > prev.hwm) this.hwm.set(pid, { hwm, exe });
        own += readKb(status, "RssAnon") + readKb(status, "RssShmem");
      } catch { /* exited between listing and reading */ }
    }
    this.samples++;
    if (own > this.peakOwn) this.peakOwn = own;
    if (rss > this.peakRss) this.peakRss = rss;
  }

  start() {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops sampling and returns MiB figures. */
  stop() {
    if (this.timer) { this.sample(); clearInterval(this.timer); this.timer = null; }
    const hwms = [...this.hwm.values()].map((v) => v.hwm);
    return {
      peak_anon_shmem_mib: round1(this.peakOwn / MIB),
      peak_rss_mib: round1(this.peakRss / MIB),
      max_process_hwm_mib: round1((hwms.length ? Math.max(...hwms) : 0) / MIB),
      sum_process_hwm_mib: round1(hwms.reduce((a, b) => a + b, 0) / MIB),
      processes: this.hwm.size,
      samples: this.samples,
    };
  }
}

export function round1(x) { return Math.round(x * 10) / 10; }
