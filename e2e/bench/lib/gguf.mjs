// Just enough GGUF (v2/v3) reading for the bench: the metadata key/values (the vocabulary lives there), from the
// start of the file, without touching the tensor data.
import fs from "node:fs";

const T = { U8: 0, I8: 1, U16: 2, I16: 3, U32: 4, I32: 5, F32: 6, BOOL: 7, STR: 8, ARR: 9, U64: 10, I64: 11, F64: 12 };

export function readGgufMetadata(file) {
  const fd = fs.openSync(file, "r");
  try {
    let buf = Buffer.alloc(0);
    let pos = 0;
    const need = (n) => {
      if (pos + n <= buf.length) return;
      const more = Buffer.alloc(Math.max(n, 8 << 20));
      const got = fs.readSync(fd, more, 0, more.length, buf.length);
      if (pos + n > buf.length + got) throw new Error(`${file}: truncated GGUF header`);
      buf = Buffer.concat([buf, more.subarray(0, got)]);
    };
    const u32 = () => { need(4); const v = buf.readUInt32LE(pos); pos += 4; return v; };
    const u64 = () => { need(8); const v = buf.readBigUInt64LE(pos); pos += 8; return Number(v); };
    const str = () => { const n = u64(); need(n); const s = buf.toString("utf8", pos, pos + n); pos += n; return s; };
    const scalar = (t) => {
      switch (t) {
        case T.U8: need(1); return buf.readUInt8(pos++);
        case T.I8: need(1); return buf.readInt8(pos++);
        case T.U16: need(2); pos += 2; return buf.readUInt16LE(pos - 2);
        case T.I16: need(2); pos += 2; return buf.readInt16LE(pos - 2);
        case T.U32: return u32();
        case T.I32: need(4); pos += 4; return buf.readInt32LE(pos - 4);
        case T.F32: need(4); pos += 4; return buf.readFloatLE(pos - 4);
        case T.BOOL: need(1); return buf.readUInt8(pos++) !== 0;
        case T.STR: return str();
        case T.U64: return u64();
        case T.I64: need(8); pos += 8; return Number(buf.readBigInt64LE(pos - 8));
        case T.F64: need(8); pos += 8; return buf.readDoubleLE(pos - 8);
        case T.ARR: {
          const et = u32(), n = u64(), a = new Array(n);
          for (let i = 0; i < n; i++) a[i] = scalar(et);
          return a;
        }
        default: throw new Error(`${file}: unknown GGUF value type ${t}`);
      }
    };
    need(24);
    if (buf.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${file}: not a GGUF file`);
    pos = 4;
    const version = u32();
    const tensorCount = u64();
    const kvCount = u64();
    const meta = {};
    for (let i = 0; i < kvCount; i++) {
      const key = str();
      meta[key] = scalar(u32());
    }
    return { version, tensorCount, meta };
  } finally {
    fs.closeSync(fd);
  }
}

// GPT-2 byte-level BPE: the printable-unicode stand-in for each byte.
function byteDecoder() {
  const bs = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) if (!bs.includes(b)) { bs.push(b); cs.push(256 + n++); }
  const dec = new Map();
  bs.forEach((b, i) => dec.set(String.fromCodePoint(cs[i]), b));
  return dec;
}

/**
 * Token ids a benchmark must never generate so that every engine runs the full decode length without crashing:
 * tokens whose bytes alone are not valid UTF-8 (wllama's JSON layer crashes on them), every non-normal token
 * (control / user-defined / unused: end-of-generation and other specials) and, for a byte-level vocabulary, tokens
 * that decode to nothing.
 */
export function bannedTokenIds(meta) {
  const tokens = meta["tokenizer.ggml.tokens"];
  const types = meta["tokenizer.ggml.token_type"];
  if (!Array.isArray(tokens)) throw new Error("GGUF has no tokenizer.ggml.tokens");
  const byteLevel = meta["tokenizer.ggml.model"] === "gpt2";
  const dec = byteDecoder();
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  const banned = [];
  for (let id = 0; id < tokens.length; id++) {
    if (types && types[id] !== 1) { banned.push(id); continue; }
    if (!byteLevel) continue;
    const bytes = [];
    let ok = true;
    for (const ch of tokens[id]) {
      const b = dec.get(ch);
      if (b === undefined) { ok = false; break; }
      bytes.push(b);
    }
    if (ok && bytes.length) {
      try { utf8.decode(Uint8Array.from(bytes)); } catch { ok = false; }
    }
    if (!ok || !bytes.length) banned.push(id);
  }
  return banned;
}
