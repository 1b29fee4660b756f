// Verifies Earn Idle receipts in the browser (docs/receipts.md): RFC 8785 canonical JSON, Ed25519 signatures with
// WebCrypto, the keys' validity periods and the prev links of a node session's chain. It trusts nothing but the
// published public keys: no verdict comes from the server.

const encoder = new TextEncoder();

/**
 * The RFC 8785 (JCS) text of a JSON value: members sorted by the UTF-16 code units of their names (what
 * Array.prototype.sort does with strings), no whitespace, and JSON.stringify's strings and numbers, which are
 * ECMAScript's, as RFC 8785 specifies.
 * @param {unknown} value
 * @returns {string}
 */
export function canonicalize(value) {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      throw new Error('NaN and Infinity are not JSON numbers');
    }
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return '[' + value.map(canonicalize).join(',') + ']';
  }
  const names = Object.keys(value).sort();
  return '{' + names.map(n => JSON.stringify(n) + ':' + canonicalize(value[n])).join(',') + '}';
}

/** @param {Uint8Array} bytes */
function base64url(bytes) {
  let bin = '';
  for (const b of bytes) {
    bin += String.fromCharCode(b);
  }
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/**
 * The bytes of a base64url string without padding, or null when it is not one, or not the canonical encoding of
 * its bytes (unused low bits set): each signature has exactly one spelling.
 * @param {string} text
 */
function fromBase64url(text) {
  if (typeof text !== 'string' || !/^[A-Za-z0-9_-]*$/.test(text)) {
    return null;
  }
  try {
    const bin = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
    const bytes = Uint8Array.from(bin, c => c.charCodeAt(0));
    return base64url(bytes) === text ? bytes : null;
  } catch {
    return null;
  }
}

/**
 * Hex SHA-256 of the receipt's canonical UTF-8 bytes: what the next receipt of its session names as prev.
 * @param {object} receipt
 */
export async function receiptHash(receipt) {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(canonicalize(receipt))));
  return Array.from(digest, b => b.toString(16).padStart(2, '0')).join('');
}

/**
 * The receipts of a pasted or fetched text: one {receipt, signature, kid} object, an array of them, or a page of a
 * session's chain ({"receipts": [...], "from": 1, ...}). fromStart: the list starts at the session's first receipt.
 * @param {string} text
 * @returns {{items: any[], fromStart: boolean}}
 */
export function parseInput(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error('the input is not JSON: ' + (e instanceof Error ? e.message : String(e)));
  }
  if (Array.isArray(data)) {
    return {items: data, fromStart: false};
  }
  if (data && Array.isArray(data.receipts)) {
    return {items: data.receipts, fromStart: data.from === 1};
  }
  if (data && typeof data === 'object' && 'receipt' in data) {
    return {items: [data], fromStart: false};
  }
  throw new Error('the input is neither a receipt ({"receipt", "signature", "kid"}), a list of them nor a chain');
}

/** @param {any} v */
const isObject = v => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Verifies receipts against a JWKS. Each result: index, id, kind, job, ok and, when not ok, the reason naming the
 * first broken field or link. chain: check the prev links (one session's receipts in order); fromStart: the first
 * receipt must be the session's first (prev null).
 * @param {any[]} items
 * @param {{keys: any[]}} jwks
 * @param {{chain?: boolean, fromStart?: boolean}} [options]
 */
export async function verifyReceipts(items, jwks, options = {}) {
  const chain = options.chain !== false;
  const keys = new Map((jwks && Array.isArray(jwks.keys) ? jwks.keys : []).map(k => [k.kid, k]));
  /** @type {Map<string, CryptoKey>} */
  const imported = new Map();
  /** @type {Map<string, any>} */
  const seen = new Map();
  const results = [];
  /** @type {any} */
  let previous = null;
  /** @type {string|null} */
  let previousHash = null;
  for (let i = 0; i < items.length; i++) {
    const item = items[i];
    const receipt = isObject(item) && isObject(item.receipt) ? item.receipt : null;
    const reason = receipt === null
      ? 'not a {"receipt", "signature", "kid"} object'
      : await check(item, receipt, i, previous, previousHash, {keys, imported, seen, chain, fromStart: !!options.fromStart});
    results.push({
      index: i,
      id: receipt && typeof receipt.id === 'string' ? receipt.id : null,
      kind: receipt ? receipt.kind : null,
      job: receipt ? receipt.job_id : null,
      issuedAt: receipt ? receipt.issued_at : null,
      ok: reason === null,
      reason,
    });
    if (receipt) {
      previous = receipt;
      previousHash = await receiptHash(receipt);
      if (typeof receipt.id === 'string') {
        seen.set(receipt.id, receipt);
      }
    }
  }
  const firstBroken = results.find(r => !r.ok) || null;
  return {ok: results.length > 0 && firstBroken === null, results, firstBroken};
}

/**
 * The first thing wrong with one receipt, or null.
 * @returns {Promise<string|null>}
 */
async function check(item, receipt, i, previous, previousHash, ctx) {
  if (typeof item.kid !== 'string' || item.kid !== receipt.kid) {
    return `field kid: the receipt names key ${JSON.stringify(receipt.kid)}, its envelope ${JSON.stringify(item.kid)}`;
  }
  if (receipt.v !== 1) {
    return `field v: version ${JSON.stringify(receipt.v)} is not 1, the version this page verifies`;
  }
  const key = ctx.keys.get(receipt.kid);
  if (!key) {
    return `field kid: key ${receipt.kid} is not published at /.well-known/earnidle-receipt-keys.json`;
  }
  const signature = fromBase64url(item.signature);
  if (signature === null || signature.length !== 64) {
    return 'signature: not the base64url spelling of a 64-byte Ed25519 signature';
  }
  const issued = typeof receipt.issued_at === 'string' ? Date.parse(receipt.issued_at) : NaN;
  if (Number.isNaN(issued)) {
    return 'field issued_at: not a timestamp';
  }
  if (issued < key.nbf * 1000 || (typeof key.exp === 'number' && issued >= key.exp * 1000)) {
    const until = typeof key.exp === 'number' ? new Date(key.exp * 1000).toISOString() : 'now';
    return `field issued_at: ${receipt.issued_at} is outside the period of key ${key.kid} `
      + `(${new Date(key.nbf * 1000).toISOString()} to ${until})`;
  }
  let cryptoKey = ctx.imported.get(key.kid);
  if (!cryptoKey) {
    cryptoKey = await crypto.subtle.importKey('jwk', {kty: 'OKP', crv: 'Ed25519', x: key.x}, {name: 'Ed25519'},
      false, ['verify']);
    ctx.imported.set(key.kid, cryptoKey);
  }
  let canonical;
  try {
    canonical = encoder.encode(canonicalize(receipt));
  } catch (e) {
    return 'receipt: ' + (e instanceof Error ? e.message : String(e));
  }
  if (!(await crypto.subtle.verify({name: 'Ed25519'}, cryptoKey, signature, canonical))) {
    return `signature: does not match the receipt's canonical bytes under key ${key.kid} `
      + '(a field of the receipt, or the signature, was altered)';
  }
  if (ctx.chain) {
    const session = isObject(receipt.node) ? receipt.node.session_id : undefined;
    if (previous === null) {
      if (ctx.fromStart && receipt.prev !== null) {
        return 'field prev: the chain starts at the session\'s first receipt, whose prev is null, not '
          + JSON.stringify(receipt.prev);
      }
    } else {
      const previousSession = isObject(previous.node) ? previous.node.session_id : undefined;
      if (session !== previousSession) {
        return `field node.session_id: ${session} is not the session of receipt #${i} (${previousSession}): `
          + 'not one session\'s chain';
      }
      if (receipt.prev !== previousHash) {
        return `field prev: is not the SHA-256 of receipt #${i} (${previous.id}): a receipt before it is missing, `
          + 'out of order or altered';
      }
      if (Date.parse(receipt.issued_at) < Date.parse(previous.issued_at)) {
        return `field issued_at: earlier than receipt #${i}'s`;
      }
    }
  }
  const price = receipt.price;
  if (!isObject(price) || price.total_micro_usdc
      !== price.node_micro_usdc + price.publisher_micro_usdc + price.platform_micro_usdc) {
    return 'field price: the split to node, publisher and platform does not add up to total_micro_usdc';
  }
  if (receipt.kind !== 'result' && typeof receipt.refers_to === 'string' && ctx.seen.has(receipt.refers_to)) {
    const referred = ctx.seen.get(receipt.refers_to);
    if (referred.kind !== 'result' || referred.job_id !== receipt.job_id) {
      return `field refers_to: ${receipt.refers_to} is not the result receipt of job ${receipt.job_id}`;
    }
  }
  return null;
}
