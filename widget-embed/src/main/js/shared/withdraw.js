/*
 * Withdrawals: the EIP-712 typed data a wallet signs (eth_signTypedData_v4 form, with the domain and types that
 * GET /api/payouts/config publishes) and the checks of the amount before anything is signed.
 */
import { toMicro } from "./money.js";

/**
 * @typedef {object} Eip712Config the eip712 member of GET /api/payouts/config
 * @property {Record<string, {name: string, type: string}[]>} types
 * @property {string} primary_type
 * @property {Record<string, unknown>} domain
 */

/**
 * @typedef {object} WithdrawMessage
 * @property {string} account the ledger account debited ("wallet:0x…" or "publisher:…")
 * @property {string} destination
 * @property {bigint} amount micro-USDC
 * @property {number} nonce
 * @property {number} deadline unix seconds
 */

/**
 * @typedef {object} TypedData
 * @property {Record<string, {name: string, type: string}[]>} types
 * @property {string} primaryType
 * @property {Record<string, unknown>} domain
 * @property {Record<string, unknown>} message
 */

/** The longest a withdrawal signature is asked to stay valid, in seconds. */
export const MAX_SIGNATURE_LIFETIME_S = 3600;

/**
 * The deadline of a signature made now: an hour, or less when the server allows less.
 * @param {number} nowMs
 * @param {number} maxDeadlineSeconds the server's max_deadline_seconds
 * @returns {number} unix seconds
 */
export function withdrawDeadline(nowMs, maxDeadlineSeconds) {
  return Math.floor(nowMs / 1000) + Math.min(MAX_SIGNATURE_LIFETIME_S, maxDeadlineSeconds);
}

/**
 * The typed data to sign for a withdrawal.
 * @param {Eip712Config} eip712
 * @param {WithdrawMessage} message
 * @returns {TypedData}
 */
export function withdrawTypedData(eip712, message) {
  return {
    types: eip712.types,
    primaryType: eip712.primary_type,
    domain: eip712.domain,
    message: {account: message.account, destination: message.destination, amount: message.amount,
      nonce: message.nonce, deadline: message.deadline}
  };
}

/**
 * Why an amount cannot be withdrawn, or null when it can: "invalid" (not a positive amount), "minimum" (below the
 * minimum withdrawal) or "balance" (more than is available).
 * @param {bigint | null} amount micro-USDC, null when the text was not an amount
 * @param {number | bigint} minimum micro-USDC
 * @param {number | bigint} balance micro-USDC
 * @returns {"invalid" | "minimum" | "balance" | null}
 */
export function amountProblem(amount, minimum, balance) {
  if (amount === null || amount <= 0n) { return "invalid"; }
  if (amount < toMicro(minimum)) { return "minimum"; }
  if (amount > toMicro(balance)) { return "balance"; }
  return null;
}
