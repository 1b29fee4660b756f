/*
 * Withdrawals of the publisher's earnings: EIP-712 typed data signed by the payout wallet (the one created in this
 * browser, or an injected browser wallet holding that address) and paid only to it.
 */
import { $, el, showError, formatMicroUsdc as usdc, parseUsdc, amountProblem, withdrawDeadline, withdrawTypedData,
  jsonBody } from "../shared.js";
import { api } from "./api.js";
import { P } from "./state.js";
import { walletBundle } from "./payout-wallet.js";
import { refreshDashboard } from "./dashboard.js";

/** @type {Record<string, string>} */
const PAYOUT_STATUS = {requested: "requested", signed: "signed, about to be sent",
  sent: "sent, waiting for confirmations", confirmed: "confirmed (paid)", failed: "failed, funds returned"};

/** @param {any[]} payouts the dashboard's payout history */
export function renderPayouts(payouts) {
  const body = $("payouts").querySelector("tbody");
  body.textContent = "";
  payouts.forEach((p) => {
    const tr = el("tr", {"data-payout-id": p.id, "data-status": p.status});
    tr.appendChild(el("td", null, p.created_at.slice(0, 10)));
    tr.appendChild(el("td", null, (PAYOUT_STATUS[p.status] || p.status)
        + (p.failure_reason ? ": " + p.failure_reason : "")));
    tr.appendChild(el("td", null, usdc(p.amount_micro_usdc)));
    const tx = el("td");
    if (p.tx_hash) {
      tx.setAttribute("data-tx-hash", p.tx_hash);
      tx.appendChild(el("code", null, p.tx_hash));
    } else {
      tx.textContent = "–";
    }
    tr.appendChild(tx);
    body.appendChild(tr);
    if (p.id === P.awaitingPayout && (p.status === "confirmed" || p.status === "failed")) {
      P.awaitingPayout = null;
      $("withdraw-status").textContent = p.status === "confirmed"
          ? "Paid: " + usdc(p.amount_micro_usdc) + " USDC reached " + p.destination + "."
          : "The withdrawal failed (" + (p.failure_reason || "unknown reason") + "); the funds are back.";
    }
  });
  $("payouts").hidden = payouts.length === 0;
  $("payouts-empty").hidden = payouts.length > 0;
}

/** @returns {Promise<any>} GET /api/payouts/config, fetched once */
export function payoutConfig() {
  if (P.payoutCfg) { return Promise.resolve(P.payoutCfg); }
  return api("GET", "/api/payouts/config").then((c) => { P.payoutCfg = c; showWithdrawLimits(); return c; });
}

export function showWithdrawLimits() {
  const parts = [];
  if (P.lastDashboard) { parts.push(usdc(P.lastDashboard.balance_micro_usdc) + " available"); }
  if (P.payoutCfg) { parts.push("minimum " + usdc(P.payoutCfg.min_withdrawal_micro_usdc)); }
  $("withdraw-limits").textContent = parts.length ? "(" + parts.join(", ") + ")" : "";
}

/** An error written for the publisher (shown as is); amount marks the amount field invalid. */
class LocalError extends Error {
  /**
   * @param {string} message
   * @param {boolean} [amount]
   */
  constructor(message, amount) {
    super(message);
    this.amount = !!amount;
  }
}

/**
 * @typedef {object} PayoutSigner
 * @property {string} name
 * @property {(typed: import("../shared.js").TypedData) => Promise<string>} signTypedData
 */

/**
 * The signer that holds the payout address: the wallet created in this browser (the wallet bundle's key on the
 * device), else an injected browser wallet (window.ethereum, eth_signTypedData_v4) sharing that address.
 * @param {string} address
 * @returns {Promise<PayoutSigner>}
 */
async function payoutSigner(address) {
  const want = address.toLowerCase();
  /** @type {import("../shared.js").WalletBundle | null} */
  let bundle = null;
  /** @type {string | null} */
  let stored = null;
  try {
    bundle = await walletBundle();
    stored = await bundle.storedAddress();
  } catch (e) {
    bundle = null;
  }
  if (bundle && stored && stored.toLowerCase() === want) {
    return {name: "the wallet kept in this browser", signTypedData: bundle.signTypedData};
  }
  const ethereum = /** @type {any} */ (window).ethereum;
  if (ethereum) {
    /** @type {string[]} */
    let accounts;
    try {
      accounts = await ethereum.request({method: "eth_requestAccounts"});
    } catch (e) {
      throw new LocalError("The browser wallet did not connect: " + (/** @type {any} */ (e).message || e));
    }
    const match = (accounts || []).filter((a) => String(a).toLowerCase() === want)[0];
    if (!match) {
      throw new LocalError("Your browser wallet did not share the payout address " + address
          + ". Switch to that account in the wallet and try again.");
    }
    return {name: "your browser wallet", signTypedData: (typed) =>
      ethereum.request({method: "eth_signTypedData_v4", params: [match, jsonBody(typed)]})};
  }
  throw new LocalError("The payout wallet " + address + " is not in this browser. Withdraw from the browser where "
      + "you created it, or connect the browser wallet that holds it.");
}

export function withdrawAll() {
  if (P.lastDashboard) { $("withdraw-amount").value = usdc(P.lastDashboard.balance_micro_usdc); }
  $("withdraw-amount").focus();
}

/**
 * The withdrawal request for this amount, checked against the account's balance and minimum.
 * @param {bigint} amount
 * @param {any} w GET /api/publisher/withdrawals
 * @param {any} cfg GET /api/payouts/config
 */
function withdrawalRequest(amount, w, cfg) {
  if (!w.payout_address) {
    throw new LocalError("Prove a payout wallet above first: withdrawals are paid only to it.");
  }
  const problem = amountProblem(amount, w.min_withdrawal_micro_usdc, w.balance_micro_usdc);
  if (problem === "minimum") {
    throw new LocalError("The minimum withdrawal is " + usdc(w.min_withdrawal_micro_usdc) + " USDC.", true);
  }
  if (problem === "balance") {
    throw new LocalError("You have " + usdc(w.balance_micro_usdc) + " USDC available" + (w.pending_micro_usdc > 0
        ? " (" + usdc(w.pending_micro_usdc) + " more is pending until its verification window closes)" : "")
        + ".", true);
  }
  if (!cfg.token_address) { throw new LocalError("Payouts are not configured on this server yet."); }
  const message = {account: w.account, destination: w.payout_address, amount, nonce: w.next_withdraw_nonce,
    deadline: withdrawDeadline(Date.now(), cfg.max_deadline_seconds)};
  return {message, typed: withdrawTypedData(cfg.eip712, message)};
}

/**
 * The amount typed, or null (after showing why) when it is not one.
 * @param {HTMLInputElement} input
 * @returns {bigint | null}
 */
function typedAmount(input) {
  let amount = null;
  let error = "Enter an amount in USDC, for example 1.25 (digits, at most 6 decimals).";
  try { amount = parseUsdc(input.value); } catch (e) { error = /** @type {Error} */ (e).message; }
  if (amount === null || amount <= 0n) {
    input.setAttribute("aria-invalid", "true");
    showError("withdraw-error", error);
    input.focus();
    return null;
  }
  return amount;
}

/** @param {Event} event */
export async function withdraw(event) {
  event.preventDefault();
  const input = $("withdraw-amount");
  const button = $("withdraw-submit");
  showError("withdraw-error", "");
  $("withdraw-status").textContent = "";
  input.setAttribute("aria-invalid", "false");
  const amount = typedAmount(input);
  if (amount === null) { return; }
  button.disabled = true;
  $("withdraw-status").textContent = "Preparing…";
  try {
    const [w, cfg] = await Promise.all([api("GET", "/api/publisher/withdrawals"), payoutConfig()]);
    const req = withdrawalRequest(amount, w, cfg);
    const signer = await payoutSigner(w.payout_address);
    $("withdraw-status").textContent = "Waiting for the signature of " + signer.name + "…";
    /** @type {string} */
    let signature;
    try {
      signature = await signer.signTypedData(req.typed);
    } catch (e) {
      throw new LocalError("The wallet did not sign: " + (/** @type {any} */ (e).message || e));
    }
    $("withdraw-status").textContent = "Sending…";
    const m = req.message;
    const p = await api("POST", "/api/publisher/withdrawals", {amount_micro_usdc: m.amount,
      destination: m.destination, nonce: m.nonce, deadline: m.deadline, signature});
    button.disabled = false;
    input.value = "";
    P.awaitingPayout = p.id;
    $("withdraw-status").textContent = "Withdrawal of " + usdc(p.amount_micro_usdc)
        + " USDC requested; it is paid on chain shortly.";
    refreshDashboard();
  } catch (e) {
    button.disabled = false;
    $("withdraw-status").textContent = "";
    if (e instanceof LocalError && e.amount) { input.setAttribute("aria-invalid", "true"); }
    showError("withdraw-error", e instanceof LocalError ? e.message : "Withdrawal refused: "
        + /** @type {any} */ (e).message);
  }
}
