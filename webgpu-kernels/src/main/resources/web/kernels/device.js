// What the kernel runner needs to know about a GPUDevice: workgroup sizes within its limits, whether the subgroup
// reduction variant compiles, and error scopes around device work (runner.js re-exports the public ones).

function largestPow2AtMost(n) {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return p;
}

/**
 * Workgroup size for a row-reduction kernel: the largest power of two allowed by the device
 * (maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX, workgroup storage for the f32
 * partials), capped at 256 and at the next power of two >= the row length (no idle invocations
 * for tiny rows), and at least 1.
 */
export function pickWorkgroupSize(device, rowLength = Infinity, floatsPerInvocation = 1, reservedBytes = 16) {
  const l = device.limits;
  let cap = Math.min(
    256,
    l.maxComputeInvocationsPerWorkgroup,
    l.maxComputeWorkgroupSizeX,
    Math.floor((l.maxComputeWorkgroupStorageSize - reservedBytes) / (4 * floatsPerInvocation)),
  );
  let wg = largestPow2AtMost(Math.max(1, cap));
  if (Number.isFinite(rowLength)) {
    let need = 1;
    while (need < rowLength) need *= 2;
    wg = Math.min(wg, need);
  }
  return wg;
}

/** True when the subgroup reduction variant can be compiled on this device. */
export function subgroupsSupported(device) {
  const lang = globalThis.navigator?.gpu?.wgslLanguageFeatures;
  return device.features.has("subgroups") && !!lang && lang.has("subgroup_id");
}

export function resolveReduction(device, reduction) {
  const sg = subgroupsSupported(device);
  if (reduction === "auto" || reduction === undefined) return sg ? "subgroup" : "workgroup";
  if (reduction === "subgroup" && !sg) {
    throw new Error("subgroup reduction requested but the device lacks 'subgroups' or WGSL 'subgroup_id'");
  }
  if (reduction !== "subgroup" && reduction !== "workgroup") throw new Error(`unknown reduction ${reduction}`);
  return reduction;
}

export async function withErrorScope(device, what, fn) {
  device.pushErrorScope("validation");
  device.pushErrorScope("out-of-memory");
  let result, thrown;
  try {
    result = await fn();
  } catch (e) {
    thrown = e;
  }
  // both pops issued at once (out-of-memory first: scopes pop in stack order): one round trip, not two
  const [oom, val] = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
  if (thrown) throw thrown;
  if (oom) throw new Error(`${what}: out of memory: ${oom.message}`);
  if (val) throw new Error(`${what}: validation error: ${val.message}`);
  return result;
}
