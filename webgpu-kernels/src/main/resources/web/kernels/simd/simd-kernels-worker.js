// Helper thread for simd-kernels.js: instantiates the shared-memory kernel module on the same memory, then, each
// time the job generation moves, claims row chunks of that job until none is left. Spins briefly between jobs
// (a decode step issues mat-vecs back to back), then sleeps in Atomics.wait.
import { GEN, SEGMENTS, runChunks } from "./simd-kernels.js";

const SPIN_MS = 0.5;

self.onmessage = async (e) => {
  const { module, memory, ctrl, kernels } = e.data;
  try {
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const fns = kernels.map((n) => instance.exports[n]);
    self.postMessage({ ready: true });
    let gen = Atomics.load(ctrl, GEN);
    for (;;) {
      const spinUntil = performance.now() + SPIN_MS;
      while (Atomics.load(ctrl, GEN) === gen) {
        if (performance.now() > spinUntil) Atomics.wait(ctrl, GEN, gen);
      }
      gen = Atomics.load(ctrl, GEN);
      if (ctrl[SEGMENTS] < 0) return;
      runChunks(ctrl, gen, fns);
    }
  } catch (err) {
    self.postMessage({ error: String(err && err.stack || err) });
  }
};
