// Weight formats the kernels decode: ggml_type ids (quant_common.wgsl's FMT_* constants) and their block layouts.
// Part of the kernel runner (runner.js re-exports these).

/** ggml_type ids of the weight formats the kernels decode (quant_common.wgsl). */
export const FORMATS = Object.freeze({ f32: 0, f16: 1, q4_0: 2, q4_1: 3, q8_0: 8, q4_k: 12, q6_k: 14 });
/** Block layout per format id: [elements per block, bytes per block]. */
export const BLOCKS = { 0: [1, 4], 1: [1, 2], 2: [32, 18], 3: [32, 20], 8: [32, 34], 12: [256, 144], 14: [256, 210] };

/** Format id from a name ("q4_k") or id (12). */
export function formatId(format) {
  const id = typeof format === "string" ? FORMATS[format.toLowerCase()] : format;
  if (BLOCKS[id] === undefined) throw new Error(`unsupported weight format ${format}`);
  return id;
}

/** Bytes of one row of n elements in the given format (n must be a multiple of the block size). */
export function rowBytes(format, n) {
  const [be, bb] = BLOCKS[formatId(format)];
  if (n % be !== 0) throw new Error(`row length ${n} is not a multiple of the block size ${be} of format ${format}`);
  return (n / be) * bb;
}
