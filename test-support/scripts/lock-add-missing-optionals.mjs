#!/usr/bin/env node
// Run once in an npm folder that depends on node-llama-cpp (browser-node/src/test/node, e2e/bench) after
// regenerating its package-lock.json with
//   NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional
// as `npm run lock:fix` there (or `node PATH/TO/lock-add-missing-optionals.mjs [FOLDER]`): it edits the
// package-lock.json of FOLDER, else of the current folder (npm run's is the package's folder). The one copy for both.
// Why: the npm registry reachable here has no 3.22.1 release of eight of node-llama-cpp's optional platform
// packages (linux-riscv64, mac-*, win-*; `npm view @node-llama-cpp/win-x64@3.22.1` answers E404). `npm install`
// silently skips them, but then leaves them out of the lock file, and `npm ci` refuses such a lock
// ("Missing: @node-llama-cpp/win-x64@ from lock file"). This script adds one entry per missing package with
// "optional": true and the package's os/cpu/libc restrictions (taken from its 3.21.1 release), but no "resolved" and
// no "integrity". On linux-x64 npm ci skips them because of os/cpu (and --omit=optional skips them anyway), so nothing
// is ever fetched for them. Idempotent; prints what it added.
import fs from "node:fs";
import path from "node:path";

const MISSING = {
    "@node-llama-cpp/linux-riscv64": { os: ["linux"], cpu: ["riscv64"], libc: ["glibc"] },
    "@node-llama-cpp/mac-arm64-metal": { os: ["darwin"], cpu: ["arm64", "x64"] },
    "@node-llama-cpp/mac-x64": { os: ["darwin"], cpu: ["x64"] },
    "@node-llama-cpp/win-arm64": { os: ["win32"], cpu: ["arm64", "x64"] },
    "@node-llama-cpp/win-x64": { os: ["win32"], cpu: ["x64"] },
    "@node-llama-cpp/win-x64-cuda": { os: ["win32"], cpu: ["x64"] },
    "@node-llama-cpp/win-x64-cuda-ext": { os: ["win32"], cpu: ["x64"] },
    "@node-llama-cpp/win-x64-vulkan": { os: ["win32"], cpu: ["x64"] },
};
const file = path.resolve(process.argv[2] || process.cwd(), "package-lock.json");
const lock = JSON.parse(fs.readFileSync(file, "utf8"));
const nlc = lock.packages["node_modules/node-llama-cpp"];
if (!nlc) throw new Error("node-llama-cpp is not in package-lock.json");
const added = [];
for (const [name, restr] of Object.entries(MISSING)) {
    const key = `node_modules/${name}`;
    const want = nlc.optionalDependencies?.[name];
    if (!want) throw new Error(`node-llama-cpp ${nlc.version} does not list ${name}`);
    if (lock.packages[key]) continue;
    // key order as npm writes it, so a later `npm install` leaves the file byte-identical
    const entry = { version: want, cpu: restr.cpu };
    if (restr.libc) entry.libc = restr.libc;
    Object.assign(entry, { license: "MIT", optional: true, os: restr.os, engines: { node: ">=20.0.0" } });
    lock.packages[key] = entry;
    added.push(`${name}@${want}`);
}
// keep npm's key order (alphabetical after the root "")
const sorted = { "": lock.packages[""] };
for (const k of Object.keys(lock.packages).filter((k) => k !== "").sort()) sorted[k] = lock.packages[k];
lock.packages = sorted;
fs.writeFileSync(file, JSON.stringify(lock, null, 2) + "\n");
process.stdout.write(added.length ? `added: ${added.join(", ")}\n` : "nothing to add\n");
