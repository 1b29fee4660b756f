// Embedding lookup (ggml get_rows) from raw GGUF bytes: y[y_tok + t, :] = dequant(W row ids[id_off + t])
// for n_tok tokens, any weight format of quant_common.wgsl (FMT0). The token id is read from a GPU
// buffer, so the id written by argmax.wgsl feeds the next step without a CPU round trip (the WebGPU engine's steps
// ahead). A table split by rows into parts gets one dispatch per part; row_base / rows say which ids the part holds
// (W row = id - row_base) and a token whose id is another part's is skipped, so an id that only the GPU knows still
// lands in exactly one part. Whole tables: row_base 0, rows 0xFFFFFFFF.
// Bindings (group 0): 0 = W (u32 bytes), 1 = ids (u32), 3 = y, 4 = params. One workgroup per token.

//#include quant_common

struct Params {
  n: u32,      // embedding length
  n_tok: u32,
  w_off: u32,  // byte offset of row 0
  id_off: u32,
  y_tok: u32,  // first output row (a batch whose ids fall in several row-split parts: one dispatch per run)
  row_base: u32, // first id of this part
  rows: u32,     // ids of this part: row_base .. row_base + rows - 1
}

override WG_SIZE: u32 = 64u;
const FMT0: u32 = {{FMT0}}u;

@group(0) @binding(0) var<storage, read> W: array<u32>;
@group(0) @binding(1) var<storage, read> ids: array<u32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(WG_SIZE)
fn main(
  @builtin(workgroup_id) wg: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let t = wg.x + wg.y * nwg.x;
  if (t >= params.n_tok) {
    return;
  }
  let r = ids[params.id_off + t] - params.row_base; // wraps below row_base, so one test covers both ends
  if (r >= params.rows) {
    return;
  }
  let n = params.n;
  let row = params.w_off + r * row_bytes(FMT0, n);
  for (var i = lid; i < n; i += WG_SIZE) {
    y[(params.y_tok + t) * n + i] = dequant(FMT0, row, i);
  }
}
