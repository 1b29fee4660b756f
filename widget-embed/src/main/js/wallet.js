/*
 * Earn Idle browser wallet (bundled by esbuild into web/widget/wallet.bundle.js as the global EarnIdleWallet).
 * Audited libraries do the cryptography: @noble/curves (secp256k1), @noble/hashes (keccak-256),
 * @scure/bip39 (12-word phrase) and @scure/bip32 (m/44'/60'/0'/0/0, the path common wallets use, so the phrase
 * restores the same address elsewhere). The private key never leaves the device: it is encrypted with a WebCrypto
 * AES-GCM key that is created non-extractable and kept, with the ciphertext, in this origin's IndexedDB.
 * The phrase is returned once by createWallet() and never stored. API: see docs/payouts.md.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes, utf8ToBytes, concatBytes } from "@noble/hashes/utils.js";
import { generateMnemonic as bip39Generate, validateMnemonic as bip39Validate, mnemonicToSeedSync }
  from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { HDKey } from "@scure/bip32";

export const DERIVATION_PATH = "m/44'/60'/0'/0/0";
const DB_NAME = "earnidle-wallet";
const STORE = "keys";
const RECORD = "default";

// ---------- addresses ----------

/** EIP-55 checksummed form of a 0x address. */
export function checksumAddress(address) {
  const hex = String(address).toLowerCase().replace(/^0x/, "");
  if (!/^[0-9a-f]{40}$/.test(hex)) { throw new Error("not an address: " + address); }
  const hash = bytesToHex(keccak_256(utf8ToBytes(hex)));
  let out = "0x";
  for (let i = 0; i < 40; i++) { out += parseInt(hash[i], 16) >= 8 ? hex[i].toUpperCase() : hex[i]; }
  return out;
}

function addressOfKey(privateKey) {
  const pub = secp256k1.getPublicKey(privateKey, false); // 65 bytes, 0x04 || x || y
  return checksumAddress("0x" + bytesToHex(keccak_256(pub.subarray(1)).subarray(12)));
}

// ---------- phrases and keys ----------

/** A new 12-word BIP-39 phrase (128 bits of entropy from crypto.getRandomValues). */
export function generateMnemonic() { return bip39Generate(wordlist, 128); }

export function validateMnemonic(phrase) { return bip39Validate(normalizePhrase(phrase), wordlist); }

function normalizePhrase(phrase) { return String(phrase || "").trim().toLowerCase().split(/\s+/).join(" "); }

/** The account of a phrase: {address, privateKey} (m/44'/60'/0'/0/0). */
export function accountFromMnemonic(phrase) {
  const p = normalizePhrase(phrase);
  if (!bip39Validate(p, wordlist)) { throw new Error("that is not a valid 12-word recovery phrase"); }
  const key = HDKey.fromMasterSeed(mnemonicToSeedSync(p)).derive(DERIVATION_PATH).privateKey;
  return { address: addressOfKey(key), privateKey: key };
}

// ---------- encrypted storage (IndexedDB + non-extractable AES-GCM key) ----------

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function tx(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const req = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(req ? req.result : undefined);
    t.onerror = () => reject(t.error);
  });
}

async function storeKey(privateKey, address) {
  const aesKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aesKey, privateKey));
  const db = await openDb();
  try {
    await tx(db, "readwrite", (s) => s.put({ address, aesKey, iv, ciphertext, created: Date.now() }, RECORD));
  } finally { db.close(); }
}

async function loadRecord() {
  const db = await openDb();
  try { return (await tx(db, "readonly", (s) => s.get(RECORD))) || null; } finally { db.close(); }
}

async function unlockKey() {
  const rec = await loadRecord();
  if (!rec) { throw new Error("no wallet on this device"); }
  return new Uint8Array(await crypto.subtle.decrypt({ name: "AES-GCM", iv: rec.iv }, rec.aesKey, rec.ciphertext));
}

/** Creates a wallet, stores its key encrypted and returns {address, mnemonic}. Show the phrase once. */
export async function createWallet() {
  const mnemonic = generateMnemonic();
  const { address, privateKey } = accountFromMnemonic(mnemonic);
  await storeKey(privateKey, address);
  privateKey.fill(0);
  return { address, mnemonic };
}

/** Restores a wallet from its phrase (replacing any stored one); returns {address}. */
export async function importWallet(phrase) {
  const { address, privateKey } = accountFromMnemonic(phrase);
  await storeKey(privateKey, address);
  privateKey.fill(0);
  return { address };
}

/** The stored wallet's address, or null. */
export async function storedAddress() {
  const rec = await loadRecord();
  return rec ? rec.address : null;
}

/** Deletes the stored key (the phrase is then the only way back). */
export async function forgetWallet() {
  const db = await openDb();
  try { await tx(db, "readwrite", (s) => s.delete(RECORD)); } finally { db.close(); }
}

/** Positions (0-based) of `count` distinct words the visitor must confirm. */
export function pickConfirmationIndexes(count = 3, words = 12) {
  const picked = new Set();
  const r = new Uint32Array(1);
  while (picked.size < count) { crypto.getRandomValues(r); picked.add(r[0] % words); }
  return Array.from(picked).sort((a, b) => a - b);
}

// ---------- signing ----------

function signHash(hash, privateKey) {
  const sig = secp256k1.sign(hash, privateKey, { prehash: false, format: "recovered" }); // recid || r || s
  return "0x" + bytesToHex(sig.subarray(1)) + (27 + sig[0]).toString(16);
}

/** EIP-191 personal_sign hash of a UTF-8 message. */
export function personalMessageHash(message) {
  const bytes = utf8ToBytes(message);
  return keccak_256(concatBytes(utf8ToBytes("\x19Ethereum Signed Message:\n" + bytes.length), bytes));
}

/** Signs a message with EIP-191 personal_sign using the stored key; returns the 65-byte 0x signature. */
export async function personalSign(message) {
  const key = await unlockKey();
  try { return signHash(personalMessageHash(message), key); } finally { key.fill(0); }
}

// EIP-712 for structs whose fields are string, bytes, address, bool, uintN/intN, bytesN or other structs.
function encodeType(primary, types) {
  const deps = new Set();
  (function collect(t) {
    for (const f of types[t]) {
      const base = f.type.replace(/\[\]$/, "");
      if (types[base] && !deps.has(base) && base !== primary) { deps.add(base); collect(base); }
    }
  })(primary);
  return [primary, ...Array.from(deps).sort()].map((t) =>
    t + "(" + types[t].map((f) => f.type + " " + f.name).join(",") + ")").join("");
}

function word(value) {
  let v = BigInt(value);
  if (v < 0n) { v = (1n << 256n) + v; }
  return hexToBytes(v.toString(16).padStart(64, "0"));
}

function encodeValue(type, value, types) {
  if (types[type]) { return hashStruct(type, value, types); }
  if (type === "string") { return keccak_256(utf8ToBytes(value)); }
  if (type === "bytes") { return keccak_256(hexToBytes(String(value).replace(/^0x/, ""))); }
  if (type === "address") { return word("0x" + String(value).toLowerCase().replace(/^0x/, "")); }
  if (type === "bool") { return word(value ? 1 : 0); }
  if (/^u?int\d*$/.test(type)) { return word(value); }
  if (/^bytes\d+$/.test(type)) {
    const b = hexToBytes(String(value).replace(/^0x/, ""));
    const out = new Uint8Array(32); out.set(b); return out;
  }
  throw new Error("EIP-712 type not supported here: " + type);
}

function hashStruct(type, data, types) {
  const parts = [keccak_256(utf8ToBytes(encodeType(type, types)))];
  for (const f of types[type]) { parts.push(encodeValue(f.type, data[f.name], types)); }
  return keccak_256(concatBytes(...parts));
}

/** EIP-712 digest of typed data {types, primaryType, domain, message}. */
export function typedDataHash(typed) {
  const types = Object.assign({}, typed.types);
  return keccak_256(concatBytes(new Uint8Array([0x19, 0x01]),
    hashStruct("EIP712Domain", typed.domain, types), hashStruct(typed.primaryType, typed.message, types)));
}

/** Signs EIP-712 typed data with the stored key (eth_signTypedData_v4 equivalent). */
export async function signTypedData(typed) {
  const key = await unlockKey();
  try { return signHash(typedDataHash(typed), key); } finally { key.fill(0); }
}

// ---------- SIWE (EIP-4361) ----------

/** The text of a SIWE message. issuedAt / expirationTime are ISO strings. */
export function siweMessage({ domain, address, statement, uri, chainId, nonce, issuedAt, expirationTime }) {
  let m = domain + " wants you to sign in with your Ethereum account:\n" + checksumAddress(address) + "\n\n";
  if (statement) { m += statement + "\n\n"; }
  m += "URI: " + uri + "\nVersion: 1\nChain ID: " + chainId + "\nNonce: " + nonce + "\nIssued At: " + issuedAt;
  if (expirationTime) { m += "\nExpiration Time: " + expirationTime; }
  return m;
}

// ---------- EIP-1193 browser wallets ----------

/** A signer backed by an injected EIP-1193 provider (e.g. window.ethereum): {address, personalSign, signTypedData}. */
export async function providerSigner(provider) {
  const accounts = await provider.request({ method: "eth_requestAccounts" });
  if (!accounts || !accounts.length) { throw new Error("the browser wallet shared no account"); }
  const address = checksumAddress(accounts[0]);
  return {
    address,
    personalSign: (message) => provider.request({ method: "personal_sign",
      params: ["0x" + bytesToHex(utf8ToBytes(message)), address] }),
    signTypedData: (typed) => provider.request({ method: "eth_signTypedData_v4",
      params: [address, JSON.stringify(typed)] })
  };
}

/** A signer backed by the stored device key. */
export async function deviceSigner() {
  const address = await storedAddress();
  if (!address) { throw new Error("no wallet on this device"); }
  return { address, personalSign, signTypedData };
}
