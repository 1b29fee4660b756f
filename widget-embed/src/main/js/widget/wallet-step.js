/*
 * Step 2, wallet genesis: create a wallet (12 words shown once, three asked back), import a phrase, use the wallet
 * already on this device, connect a browser wallet, or skip until a withdrawal needs one.
 */
import { $, showError, errorText } from "../shared/dom.js";
import { showWords, showConfirmFields, checkConfirmFields, positionList } from "../shared/wallet-phrase.js";
import { S } from "./state.js";
import { show } from "./steps.js";
import { openLimits } from "./limits-step.js";
import { prepareVerify } from "./verify-step.js";

/** The wallet bundle, loaded on consent (every wallet action comes after it). */
function bundle() {
  if (!S.wallet) { throw new Error("the wallet code is not loaded"); }
  return S.wallet;
}

/** @param {string} id the panel of the wallet step to show */
export function walletPanel(id) {
  ["wallet-choice", "wallet-phrase", "wallet-confirm", "wallet-import"].forEach((p) => { $(p).hidden = p !== id; });
  showError("wallet-error", "");
}

function showPhrase() {
  showWords($("phrase-words"), S.phrase || []);
  walletPanel("wallet-phrase");
  $("phrase-continue").focus();
}

export async function createWallet() {
  try {
    const w = await bundle().createWallet();
    S.phrase = w.mnemonic.split(" ");
    S.pendingAddress = w.address;
    showPhrase();
  } catch (e) {
    showError("wallet-error", "Could not create a wallet: " + errorText(e));
  }
}

/** Shows the same words again (still only in memory), then asks again. */
export function showPhraseAgain() {
  showPhrase();
}

export function showConfirm() {
  const words = S.phrase || [];
  S.confirmIdx = bundle().pickConfirmationIndexes(3, words.length);
  $("phrase-words").textContent = ""; // the words leave the screen; they are asked for, not shown
  showConfirmFields($("confirm-fields"), S.confirmIdx, "confirm-word-", true);
  walletPanel("wallet-confirm");
  $("confirm-word-0").focus();
}

/** @param {Event} event */
export function confirmWords(event) {
  event.preventDefault();
  const wrong = checkConfirmFields(S.phrase || [], S.confirmIdx, "confirm-word-");
  if (wrong.length) {
    showError("wallet-error", "Word " + positionList(wrong) + (wrong.length > 1 ? " do" : " does")
        + " not match your phrase. Check what you wrote down, or show the words again.");
    return;
  }
  S.phrase = null;
  bundle().deviceSigner().then((signer) => { useSigner(signer, "device"); },
    (e) => { showError("wallet-error", errorText(e)); });
}

/** @param {Event} event */
export function importPhrase(event) {
  event.preventDefault();
  const field = $("import-phrase");
  const phrase = field.value;
  if (!bundle().validateMnemonic(phrase)) {
    field.setAttribute("aria-invalid", "true");
    showError("wallet-error", "That is not a valid 12-word recovery phrase: check the words and their order.");
    return;
  }
  field.setAttribute("aria-invalid", "false");
  bundle().importWallet(phrase).then(() => {
    field.value = "";
    return bundle().deviceSigner();
  }).then((signer) => { useSigner(signer, "device"); },
    (e) => { showError("wallet-error", "Could not import: " + errorText(e)); });
}

export function connectBrowserWallet() {
  bundle().providerSigner(/** @type {any} */ (window).ethereum).then((signer) => { useSigner(signer, "browser"); },
    (e) => { showError("wallet-error", "Your browser wallet did not connect: " + errorText(e)); });
}

export function useStored() {
  bundle().deviceSigner().then((signer) => { useSigner(signer, "device"); },
    (e) => { showError("wallet-error", errorText(e)); });
}

/**
 * @param {import("./state.js").Signer} signer
 * @param {"device" | "browser"} kind
 */
function useSigner(signer, kind) {
  if (S.signer && S.signer.address !== signer.address) { S.walletToken = null; S.verifiedAddress = null; }
  S.signer = signer;
  S.walletKind = kind;
  $("verify-address").textContent = signer.address;
  if (S.afterVerify === "relink") { prepareVerify(); show("verify"); return; }
  openLimits(false);
}

export function skipWallet() {
  if (S.afterVerify === "relink") { S.afterVerify = "session"; show("session"); return; }
  S.signer = null;
  openLimits(false);
}
