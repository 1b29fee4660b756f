/*
 * Earn Idle browser wallet (bundled by esbuild into web/widget/wallet.bundle.js as the global EarnIdleWallet).
 * Audited libraries do the cryptography: micro-eth-signer (addresses, EIP-191 and EIP-712 signing, on
 * @noble/curves and @noble/hashes), @scure/bip39 (12-word phrase) and @scure/bip32 (m/44'/60'/0'/0/0, the path
 * common wallets use, so the phrase restores the same address elsewhere). The private key never leaves the device:
 * it is encrypted with a WebCrypto AES-GCM key that is created non-extractable and kept, with the ciphertext, in
 * this origin's IndexedDB.
 * The phrase is returned once by createWallet() and never stored. API: see docs/payouts.md.
 */
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js";
import { addr, eip191Signer, signTyped } from "micro-eth-signer";
import { generateMnemonic as bip39Generate, validateMnemonic as bip39Validate, mnemonicToSeedSync }
  from "@scure/bip39";
import { wordlist } from "@scure/bip39/wordlists/english.js";
import { HDKey } from "@scure/bip32";
import { checksumAddress } from "./siwe.js";
import { jsonBody } from "./shared/api.js";

export { checksumAddress };

export const DERIVATION_PATH = "m/44'/60'/0'/0/0";
const DB_NAME = "earnidle-wallet";
const STORE = "keys";
const RECORD = "default";

// ---------- addresses ----------

/**
 * The EIP-55 address of a secp256k1 private key.
 * @param {Uint8Array} privateKey
 * @returns {string}
 */
function addressOfKey(privateKey) {
  return addr.fromPrivateKey(privateKey);
}

// ---------- phrases and keys ----------

/** A new 12-word BIP-39 phrase (128 bits of entropy from crypto.getRandomValues). */
export function generateMnemonic() { return bip39Generate(wordlist, 128); }

/**
 * @param {string} phrase
 * @returns {boolean} whether it is a valid English BIP-39 phrase (case and spacing ignored)
 */
export function validateMnemonic(phrase) { return bip39Validate(normalizePhrase(phrase), wordlist); }

/** @param {unknown} phrase */
function normalizePhrase(phrase) { return String(phrase || "").trim().toLowerCase().split(/\s+/).join(" "); }

/**
 * The account of a phrase (m/44'/60'/0'/0/0).
 * @param {string} phrase
 * @returns {{address: string, privateKey: Uint8Array}}
 */
export function accountFromMnemonic(phrase) {
  const p = normalizePhrase(phrase);
  if (!bip39Validate(p, wordlist)) { throw new Error("that is not a valid 12-word recovery phrase"); }
  const key = HDKey.fromMasterSeed(mnemonicToSeedSync(p)).derive(DERIVATION_PATH).privateKey;
  if (!key) { throw new Error("no private key at " + DERIVATION_PATH); }
  return { address: addressOfKey(key), privateKey: key };
}

// ---------- encrypted storage (IndexedDB + non-extractable AES-GCM key) ----------

/** @returns {Promise<IDBDatabase>} */
function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * Runs one request in a transaction on the key store; resolves with its result once the transaction completed.
 * @param {IDBDatabase} db
 * @param {IDBTransactionMode} mode
 * @param {(store: IDBObjectStore) => IDBRequest | undefined} fn
 * @returns {Promise<any>}
 */
function tx(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const req = fn(t.objectStore(STORE));
    t.oncomplete = () => resolve(req ? req.result : undefined);
    t.onerror = () => reject(t.error);
  });
}

/**
 * @param {Uint8Array} privateKey
 * @param {string} address
 */
async function storeKey(privateKey, address) {
  const aesKey = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"]);
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, aesKey,
    /** @type {Uint8Array<ArrayBuffer>} */ (privateKey)));
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

/**
 * Restores a wallet from its phrase (replacing any stored one).
 * @param {string} phrase
 * @returns {Promise<{address: string}>}
 */
export async function importWallet(phrase) {
  const { address, privateKey } = accountFromMnemonic(phrase);
  await storeKey(privateKey, address);
  privateKey.fill(0);
  return { address };
}

/**
 * The stored wallet's address, or null.
 * @returns {Promise<string | null>}
 */
export async function storedAddress() {
  const rec = await loadRecord();
  return rec ? rec.address : null;
}

/** Deletes the stored key (the phrase is then the only way back). */
export async function forgetWallet() {
  const db = await openDb();
  try { await tx(db, "readwrite", (s) => s.delete(RECORD)); } finally { db.close(); }
}

/**
 * Positions (0-based) of `count` distinct words the visitor must confirm.
 * @param {number} [count]
 * @param {number} [words] the phrase's length
 * @returns {number[]}
 */
export function pickConfirmationIndexes(count = 3, words = 12) {
  const picked = new Set();
  const r = new Uint32Array(1);
  while (picked.size < count) { crypto.getRandomValues(r); picked.add(r[0] % words); }
  return Array.from(picked).sort((a, b) => a - b);
}

// ---------- signing (micro-eth-signer: EIP-191 personal_sign and EIP-712 typed data) ----------

/**
 * Signs a message with EIP-191 personal_sign using the stored key; returns the 65-byte 0x signature (r, s, v).
 * @param {string} message
 * @returns {Promise<string>}
 */
export async function personalSign(message) {
  const key = await unlockKey();
  try { return personalSignWithKey(message, key); } finally { key.fill(0); }
}

/**
 * EIP-191 personal_sign of a UTF-8 message with this key: 0x r s v (v = 27 or 28).
 * @param {string} message
 * @param {Uint8Array} key
 * @param {boolean} [hedged] mix fresh randomness into the nonce (the default); false for RFC 6979 alone
 * @returns {string}
 */
export function personalSignWithKey(message, key, hedged = true) {
  return eip191Signer.sign(message, key, hedged);
}

/**
 * Signs EIP-712 typed data {types, primaryType, domain, message} with the stored key (the eth_signTypedData_v4
 * equivalent); integers may be numbers, bigints or decimal strings.
 * @param {import("./shared/withdraw.js").TypedData} typed
 * @returns {Promise<string>}
 */
export async function signTypedData(typed) {
  const key = await unlockKey();
  try { return signTypedDataWithKey(typed, key); } finally { key.fill(0); }
}

/**
 * The eth_signTypedData_v4 signature of typed data with this key: 0x r s v (v = 27 or 28).
 * @param {import("./shared/withdraw.js").TypedData} typed
 * @param {Uint8Array} key
 * @param {boolean} [hedged] mix fresh randomness into the nonce (the default); false for RFC 6979 alone
 * @returns {string}
 */
export function signTypedDataWithKey(typed, key, hedged = true) {
  return signTyped(/** @type {any} */ (typedWithBigInts(typed)), key, hedged);
}

/**
 * A copy of typed data whose uintN / intN fields (domain and message, nested structs too) are bigints, the form
 * micro-eth-signer encodes without loss.
 * @param {import("./shared/withdraw.js").TypedData} typed
 * @returns {import("./shared/withdraw.js").TypedData}
 */
export function typedWithBigInts(typed) {
  /**
   * @param {string} type
   * @param {any} value
   * @returns {any}
   */
  function convert(type, value) {
    if (typed.types[type]) {
      /** @type {Record<string, unknown>} */
      const out = Object.assign({}, value);
      typed.types[type].forEach((f) => {
        if (value && f.name in value) { out[f.name] = convert(f.type, value[f.name]); }
      });
      return out;
    }
    if (/\[\d*\]$/.test(type)) { return value.map((/** @type {any} */ v) => convert(type.replace(/\[\d*\]$/, ""), v)); }
    return /^u?int\d*$/.test(type) && value !== undefined && value !== null ? BigInt(value) : value;
  }
  return {types: typed.types, primaryType: typed.primaryType, domain: convert("EIP712Domain", typed.domain),
    message: convert(typed.primaryType, typed.message)};
}

export { siweMessage } from "./siwe.js";

// ---------- EIP-1193 browser wallets ----------

/**
 * @typedef {object} Signer
 * @property {string} address
 * @property {(message: string) => Promise<string>} personalSign
 * @property {(typed: import("./shared/withdraw.js").TypedData) => Promise<string>} signTypedData
 */

/**
 * A signer backed by an injected EIP-1193 provider (e.g. window.ethereum).
 * @param {{request: (args: {method: string, params?: unknown[]}) => Promise<any>}} provider
 * @returns {Promise<Signer>}
 */
export async function providerSigner(provider) {
  const accounts = await provider.request({ method: "eth_requestAccounts" });
  if (!accounts || !accounts.length) { throw new Error("the browser wallet shared no account"); }
  const address = checksumAddress(accounts[0]);
  return {
    address,
    personalSign: (/** @type {string} */ message) => provider.request({ method: "personal_sign",
      params: ["0x" + bytesToHex(utf8ToBytes(message)), address] }),
    signTypedData: (/** @type {import("./shared/withdraw.js").TypedData} */ typed) => provider.request({
      method: "eth_signTypedData_v4",
      params: [address, jsonBody(typed)] })
  };
}

/**
 * A signer backed by the stored device key.
 * @returns {Promise<Signer>}
 */
export async function deviceSigner() {
  const address = await storedAddress();
  if (!address) { throw new Error("no wallet on this device"); }
  return { address, personalSign, signTypedData };
}
