/*
 * The payout wallet: an existing address proven by an EIP-191 signature of the portal's challenge, or a new wallet
 * created in this browser with the widget's wallet bundle (12 words shown once, three asked back; the key stays
 * encrypted on the device) and proven the same way.
 */
import { $, showError, loadWalletBundle, showWords, showConfirmFields, checkConfirmFields, positionList }
  from "../shared.js";
import { api } from "./api.js";

/** @type {any} the challenge of POST /api/publisher/payout-wallet/challenge */
let walletChallenge = null;

/** @type {{words: string[], address: string, indexes: number[]} | null} in memory only, until confirmed */
let newWallet = null;

/** The injected EIP-1193 wallet, if any. */
function ethereum() { return /** @type {any} */ (window).ethereum; }

/** @param {Event} event */
export function walletMessage(event) {
  event.preventDefault();
  showError("wallet-error", "");
  api("POST", "/api/publisher/payout-wallet/challenge", {address: $("wallet-address").value.trim()})
    .then((c) => {
      walletChallenge = c;
      $("wallet-message").textContent = c.message;
      $("wallet-sign").hidden = false;
      $("wallet-browser-sign").hidden = !ethereum();
    })
    .catch((e) => { showError("wallet-error", e.message); });
}

export function walletBrowserSign() {
  if (!ethereum() || !walletChallenge) { return; }
  const address = $("wallet-address").value.trim();
  ethereum().request({method: "personal_sign", params: [walletChallenge.message, address]})
    .then((/** @type {string} */ sig) => { $("wallet-signature").value = sig; walletProve(); })
    .catch((/** @type {any} */ e) => { showError("wallet-error", "The wallet did not sign: " + (e.message || e)); });
}

export function walletProve() {
  showError("wallet-error", "");
  if (!walletChallenge) { showError("wallet-error", "Ask for the message to sign first."); return; }
  api("POST", "/api/publisher/payout-wallet", {challenge_id: walletChallenge.challenge_id,
    message: walletChallenge.message, signature: $("wallet-signature").value.trim()})
    .then((r) => {
      $("wallet-current").textContent = r.payout_address;
      $("wallet-status").textContent = "Payout address saved.";
      $("wallet-sign").hidden = true;
      walletChallenge = null;
    })
    .catch((e) => { showError("wallet-error", e.message); });
}

export function walletBundle() {
  return loadWalletBundle("could not load the wallet code");
}

export function walletCreate() {
  showError("wallet-new-error", "");
  walletBundle().then((w) => w.createWallet()).then((created) => {
    newWallet = {words: created.mnemonic.split(" "), address: created.address, indexes: []};
    showWords($("wallet-new-words"), newWallet.words);
    $("wallet-new-phrase").hidden = false;
    $("wallet-new-confirm").hidden = true;
    $("wallet-new-continue").focus();
  }).catch((e) => { showError("wallet-new-error", "Could not create a wallet: " + e.message); });
}

export function walletNewContinue() {
  if (!newWallet) { return; }
  const w = newWallet;
  walletBundle().then((bundle) => {
    w.indexes = bundle.pickConfirmationIndexes(3, w.words.length);
    $("wallet-new-words").textContent = "";
    $("wallet-new-phrase").hidden = true;
    showConfirmFields($("wallet-new-fields"), w.indexes, "wallet-new-word-", false);
    $("wallet-new-confirm").hidden = false;
    $("wallet-new-word-0").focus();
  });
}

/** @param {Event} event */
export function walletNewConfirm(event) {
  event.preventDefault();
  showError("wallet-new-error", "");
  if (!newWallet) { return; }
  const wrong = checkConfirmFields(newWallet.words, newWallet.indexes, "wallet-new-word-");
  if (wrong.length) {
    showError("wallet-new-error", "Word " + positionList(wrong) + " does not match your phrase.");
    return;
  }
  const address = newWallet.address;
  newWallet = null;
  $("wallet-new-confirm").hidden = true;
  // Prove it like any wallet: the portal's challenge, signed with the key on this device (EIP-191).
  api("POST", "/api/publisher/payout-wallet/challenge", {address})
    .then((c) => walletBundle().then((w) => w.personalSign(c.message)).then((signature) =>
      api("POST", "/api/publisher/payout-wallet", {challenge_id: c.challenge_id, message: c.message, signature})))
    .then((r) => {
      $("wallet-current").textContent = r.payout_address;
      $("wallet-status").textContent = "New wallet created and saved as your payout address. Keep the 12 words safe.";
    })
    .catch((e) => { showError("wallet-new-error", e.message); });
}
