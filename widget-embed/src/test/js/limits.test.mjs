import { test } from "node:test";
import assert from "node:assert/strict";
import { clamp, defaultMemoryMb, formValues, limitRanges, limitsOf, wholeNumberIn }
  from "../../main/js/widget/limits.js";

const OPEN = {cpu_share: 1, gpu: true, memory_mb: 16384, bandwidth_kbps: 1000000};

test("clamp keeps a value within its bounds", () => {
  assert.equal(clamp(3, 5, 10), 5);
  assert.equal(clamp(12, 5, 10), 10);
  assert.equal(clamp(7, 5, 10), 7);
});

/** The full-size Llama-3.2-1B Q4_0 file: 670.6 MiB (docs/benchmarks.md). */
const LLAMA_1B_Q4_0_MB = 671;

test("formValues shows the defaults within open caps where the device reports no memory", () => {
  assert.deepEqual(formValues({}, OPEN), {capPct: 100, cpuMax: 100, cpu: 50, gpuAllowed: true, gpu: false,
    memoryMax: 16384, memory: 512, bandwidthMax: 125000, bandwidth: 256, sessionMb: 512, onlyWhenVisible: true,
    pauseOnBattery: true});
});

test("the default memory is half the device's reported memory, in the field's 64 MB steps", () => {
  assert.equal(defaultMemoryMb(8), 4096);
  assert.equal(defaultMemoryMb(2), 1024);
  assert.equal(defaultMemoryMb(0.25), 128);
  assert.equal(defaultMemoryMb(3), 1536);
  assert.equal(defaultMemoryMb(0.1), 64);
  assert.equal(defaultMemoryMb(undefined), 512);
  assert.equal(defaultMemoryMb(0), 512);
});

test("the defaults admit the full-size 1B wherever the device reports twice its size, and only there", () => {
  for (const gb of [2, 4, 8]) {
    const v = formValues({}, OPEN, gb);
    assert.ok(v.memory >= LLAMA_1B_Q4_0_MB && v.sessionMb >= LLAMA_1B_Q4_0_MB, gb + " GB: " + JSON.stringify(v));
  }
  assert.deepEqual([formValues({}, OPEN, 8).memory, formValues({}, OPEN, 8).sessionMb], [4096, 4096]);
  const small = formValues({}, OPEN, 1);
  assert.ok(small.memory < LLAMA_1B_Q4_0_MB, "a 1 GB device keeps the 1B out: " + small.memory);
  assert.equal(small.sessionMb, 512);
  assert.equal(formValues({}, OPEN, 0.25).sessionMb, 200, "at least 200 MB a session");
});

test("the device's default stays within the placement's memory cap; saved limits win over it", () => {
  const capped = formValues({}, {...OPEN, memory_mb: 1024}, 8);
  assert.deepEqual([capped.memory, capped.sessionMb], [1024, 1024]);
  const saved = formValues({memory_mb: 256, bandwidth_mb_per_session: 50}, OPEN, 8);
  assert.deepEqual([saved.memory, saved.sessionMb], [256, 50]);
});

test("formValues clamps saved limits to the placement's caps", () => {
  const caps = {cpu_share: 0.4, gpu: false, memory_mb: 256, bandwidth_kbps: 512};
  const v = formValues({cpu_share: 0.9, gpu: true, memory_mb: 4096, bandwidth_kbps: 8000,
    bandwidth_mb_per_session: 50, only_when_visible: false, pause_on_battery: false}, caps);
  assert.deepEqual(v, {capPct: 40, cpuMax: 40, cpu: 40, gpuAllowed: false, gpu: false, memoryMax: 256, memory: 256,
    bandwidthMax: 64, bandwidth: 64, sessionMb: 50, onlyWhenVisible: false, pauseOnBattery: false});
});

test("formValues keeps the CPU and bandwidth fields at their floors under tiny caps", () => {
  const v = formValues({cpu_share: 0.01}, {cpu_share: 0.02, gpu: true, memory_mb: 64, bandwidth_kbps: 16});
  assert.equal(v.cpuMax, 5);
  assert.equal(v.cpu, 5);
  assert.equal(v.bandwidth, 8);
  assert.equal(v.memory, 64);
});

test("limitRanges gives each field's bounds under the caps", () => {
  assert.deepEqual(limitRanges({cpu_share: 0.4, gpu: true, memory_mb: 2048, bandwidth_kbps: 800}),
    {cpu: [5, 40], memory: [64, 2048], bandwidth: [8, 100], sessionMb: [1, 100000]});
});

test("wholeNumberIn accepts whole numbers within bounds only", () => {
  assert.equal(wholeNumberIn("40", 5, 40), 40);
  assert.equal(wholeNumberIn(" 5 ", 5, 40), 5);
  assert.equal(wholeNumberIn("41", 5, 40), null);
  assert.equal(wholeNumberIn("4", 5, 40), null);
  assert.equal(wholeNumberIn("7.5", 5, 40), null);
  assert.equal(wholeNumberIn("", 5, 40), null);
  assert.equal(wholeNumberIn("abc", 5, 40), null);
});

test("limitsOf converts the form's units and never exceeds the caps", () => {
  assert.deepEqual(limitsOf({cpuPct: 40, memory: 1024, kBs: 64, sessionMb: 200, gpu: true, onlyWhenVisible: true,
    pauseOnBattery: false}, {cpu_share: 0.35, gpu: false, memory_mb: 2048, bandwidth_kbps: 1000}),
  {cpu_share: 0.35, gpu: false, memory_mb: 1024, bandwidth_kbps: 512, bandwidth_mb_per_session: 200,
    only_when_visible: true, pause_on_battery: false});
});
