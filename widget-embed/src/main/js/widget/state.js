/*
 * The widget's state: what the visitor chose and what the session is doing. One object, read and written by the
 * step modules; nothing in it is persisted except the limits (localStorage, after consent).
 */

/** @typedef {import("../shared/wallet-phrase.js").WalletBundle} WalletBundle */

/**
 * @typedef {object} Signer
 * @property {string} address
 * @property {(message: string) => Promise<string>} personalSign
 * @property {(typed: import("../shared/withdraw.js").TypedData) => Promise<string>} signTypedData
 */

/**
 * @typedef {object} Caps the placement's limits, the most the visitor may allow
 * @property {number} cpu_share
 * @property {boolean} gpu
 * @property {number} memory_mb
 * @property {number} bandwidth_kbps
 */

/** @typedef {import("./limits.js").Limits} Limits */

export const LIMITS_KEY = "earnidle.limits.v1";

/** @type {Caps} */
export const DEFAULT_CAPS = {cpu_share: 1, gpu: true, memory_mb: 16384, bandwidth_kbps: 1000000};

/**
 * The host page's origin when it is a plain http(s) origin, else null.
 * @param {string | null} value
 * @returns {string | null}
 */
export function validOrigin(value) {
  if (!value) { return null; }
  try {
    const u = new URL(value);
    return (u.protocol === "https:" || u.protocol === "http:") && u.origin === value ? value : null;
  } catch (e) {
    return null;
  }
}

const params = new URLSearchParams(window.location.search);
export const placementId = params.get("placement") || "";
export const hostOrigin = validOrigin(params.get("host"));

export const S = {
  step: "welcome",
  consented: false,
  /** @type {WalletBundle | null} the wallet bundle, loaded after consent */
  wallet: null,
  /** @type {any} widget-config of the placement */
  config: null,
  caps: DEFAULT_CAPS,
  /** @type {Signer | null} */
  signer: null,
  /** @type {"device" | "browser" | null} */
  walletKind: null,
  /** @type {string[] | null} shown once, kept in memory only until confirmed */
  phrase: null,
  /** @type {string | null} */
  pendingAddress: null,
  /** @type {number[]} */
  confirmIdx: [],
  /** @type {string | null} */
  walletToken: null,
  /** @type {string | null} lowercase, as the backend returns it */
  verifiedAddress: null,
  /** @type {Limits | null} */
  limits: null,
  editingLimits: false,
  /** @type {Worker | null} */
  worker: null,
  /** @type {string | null} */
  state: null,
  visitorPaused: false,
  stopped: false,
  sessionStartedAt: 0,
  /** @type {any} the worker's latest status message */
  lastStatus: {},
  linkedSeen: false,
  /** @type {{available: number, pending: number, jobs: number}} micro-USDC and jobs, as last shown */
  earnings: {available: 0, pending: 0, jobs: 0},
  /** @type {any} GET /api/payouts/config */
  payoutConfig: null,
  /** @type {any} GET /api/wallets/me */
  me: null,
  /** @type {string | null} id of the withdrawal this page requested, until it is confirmed or failed */
  awaitingPayout: null,
  /** @type {"session" | "relink"} where verification leads: the first run, or a wallet added later */
  afterVerify: /** @type {"session" | "relink"} */ ("session"),
  rejectedMessages: 0
};
