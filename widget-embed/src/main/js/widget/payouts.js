/*
 * Step 6, withdraw: the verified wallet's balance and history (GET /api/wallets/me, /api/payouts) and a withdrawal
 * signed as EIP-712 typed data by the wallet, then POST /api/payouts.
 */
import { $, showError, errorText } from "../shared/dom.js";
import { formatMicroUsdc, parseUsdc } from "../shared/money.js";
import { amountProblem, withdrawDeadline, withdrawTypedData } from "../shared/withdraw.js";
import { S } from "./state.js";
import { show } from "./steps.js";
import { getJson, postJson } from "./api.js";
import { setMicro, showEarnings } from "./session.js";
import { walletPanel } from "./wallet-step.js";

export function openPayouts() {
  show("payouts");
  const linked = !!S.walletToken;
  $("payouts-no-wallet").hidden = linked;
  $("payouts-body").hidden = !linked;
  if (linked && S.signer) {
    $("payout-wallet").textContent = S.signer.address;
    if (!$("withdraw-destination").value) { $("withdraw-destination").value = S.signer.address; }
    refreshWallet();
    refreshHistory();
  }
}

export function addWalletLater() {
  S.afterVerify = "relink";
  walletPanel("wallet-choice");
  show("wallet");
}

export async function refreshWallet() {
  if (!S.walletToken) { return; }
  try {
    const cfg = S.payoutConfig ? S.payoutConfig : getJson("/api/payouts/config")
      .then((c) => { S.payoutConfig = c; return c; });
    const [me] = await Promise.all([getJson("/api/wallets/me", S.walletToken), cfg]);
    S.me = me;
    S.earnings.available = me.balance_micro_usdc;
    S.earnings.pending = me.pending_micro_usdc;
    showEarnings();
    setMicro("wallet-balance", me.balance_micro_usdc);
    setMicro("wallet-pending", me.pending_micro_usdc);
    $("wallet-in-flight").textContent = formatMicroUsdc(me.in_flight_micro_usdc);
    $("withdraw-min").textContent = "Minimum " + formatMicroUsdc(me.min_withdrawal_micro_usdc) + " USDC.";
  } catch (e) {
    if (/** @type {any} */ (e).status === 401) { S.walletToken = null; }
    showError("withdraw-error", "Could not read your balance: " + errorText(e));
  }
}

/** @param {any} p a payout of GET /api/payouts */
function historyRow(p) {
  const tr = document.createElement("tr");
  tr.setAttribute("data-payout-id", p.id);
  tr.setAttribute("data-status", p.status);
  const amount = document.createElement("td");
  amount.textContent = formatMicroUsdc(p.amount_micro_usdc) + " USDC";
  const status = document.createElement("td");
  status.textContent = p.status + (p.failure_reason ? " (" + p.failure_reason + ")" : "");
  const tx = document.createElement("td");
  tx.className = "mono";
  tx.textContent = p.tx_hash || "–";
  if (p.tx_hash) { tx.setAttribute("data-tx-hash", p.tx_hash); }
  tr.appendChild(amount);
  tr.appendChild(status);
  tr.appendChild(tx);
  return tr;
}

export async function refreshHistory() {
  if (!S.walletToken) { return; }
  try {
    const h = await getJson("/api/payouts", S.walletToken);
    const tbody = $("payout-history").querySelector("tbody");
    tbody.textContent = "";
    (h.payouts || []).forEach((/** @type {any} */ p) => tbody.appendChild(historyRow(p)));
    const latest = h.payouts && h.payouts[0];
    if (latest && S.awaitingPayout === latest.id && (latest.status === "confirmed" || latest.status === "failed")) {
      S.awaitingPayout = null;
      $("withdraw-status").textContent = latest.status === "confirmed"
          ? "Paid: " + formatMicroUsdc(latest.amount_micro_usdc) + " USDC reached your wallet."
          : "The withdrawal failed (" + (latest.failure_reason || "unknown reason") + "); the funds are back.";
    }
    $("payout-history").hidden = !(h.payouts && h.payouts.length);
    $("payouts-empty").hidden = !!(h.payouts && h.payouts.length);
  } catch (e) {
    showError("withdraw-error", "Could not read your history: " + errorText(e));
  }
}

export function withdrawAll() {
  if (S.me) { $("withdraw-amount").value = formatMicroUsdc(S.me.balance_micro_usdc); }
}

/**
 * The amount typed, or the message that says why it cannot be withdrawn.
 * @param {string} text
 * @param {any} me GET /api/wallets/me
 * @returns {{amount: bigint} | {error: string}}
 */
function checkedAmount(text, me) {
  let amount;
  try { amount = parseUsdc(text); } catch (e) { return {error: errorText(e)}; }
  switch (amountProblem(amount, me.min_withdrawal_micro_usdc, me.balance_micro_usdc)) {
    case "invalid": return {error: "Enter an amount in USDC, for example 1.25 (at most 6 decimals)."};
    case "minimum":
      return {error: "The minimum withdrawal is " + formatMicroUsdc(me.min_withdrawal_micro_usdc) + " USDC."};
    case "balance": return {error: "You have " + formatMicroUsdc(me.balance_micro_usdc) + " USDC available."};
    default: return {amount: /** @type {bigint} */ (amount)};
  }
}

/** @param {Event} event */
export async function withdraw(event) {
  event.preventDefault();
  showError("withdraw-error", "");
  $("withdraw-status").textContent = "";
  const destination = $("withdraw-destination").value.trim();
  const me = S.me, cfg = S.payoutConfig;
  $("withdraw-amount").setAttribute("aria-invalid", "false");
  $("withdraw-destination").setAttribute("aria-invalid", "false");
  if (!me || !cfg) { showError("withdraw-error", "Your balance is still loading; try again in a moment."); return; }
  const checked = checkedAmount($("withdraw-amount").value, me);
  if ("error" in checked) {
    $("withdraw-amount").setAttribute("aria-invalid", "true");
    showError("withdraw-error", checked.error);
    return;
  }
  const amount = checked.amount;
  if (!/^0x[0-9a-fA-F]{40}$/.test(destination)) {
    $("withdraw-destination").setAttribute("aria-invalid", "true");
    showError("withdraw-error", "The destination must be an address: 0x followed by 40 hexadecimal digits.");
    return;
  }
  const signer = S.signer;
  if (!signer) { return; }
  const nonce = me.next_withdraw_nonce;
  const deadline = withdrawDeadline(Date.now(), cfg.max_deadline_seconds);
  const typed = withdrawTypedData(cfg.eip712,
    {account: "wallet:" + S.verifiedAddress, destination, amount, nonce, deadline});
  $("withdraw-submit").disabled = true;
  $("withdraw-status").textContent = "Waiting for your signature…";
  try {
    const signature = await signer.signTypedData(typed);
    $("withdraw-status").textContent = "Sending…";
    const p = await postJson("/api/payouts", {amount_micro_usdc: amount, destination, nonce, deadline, signature},
      S.walletToken);
    $("withdraw-submit").disabled = false;
    $("withdraw-amount").value = "";
    S.awaitingPayout = p.id;
    $("withdraw-status").textContent = "Withdrawal of " + formatMicroUsdc(p.amount_micro_usdc)
        + " USDC requested; it is paid on chain shortly.";
    refreshWallet();
    refreshHistory();
  } catch (e) {
    $("withdraw-submit").disabled = false;
    $("withdraw-status").textContent = "";
    showError("withdraw-error", "Withdrawal refused: " + errorText(e));
    refreshWallet();
  }
}

/** Every 3 s: the balance and history on the withdraw step, the balance during a linked session. */
export function pollPayouts() {
  if (S.step === "payouts" && S.walletToken) {
    refreshWallet();
    refreshHistory();
  } else if (S.step === "session" && S.walletToken && S.worker) {
    refreshWallet();
  }
}
