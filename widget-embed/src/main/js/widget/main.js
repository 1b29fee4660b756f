/*
 * The visitor's iframe (bundled by esbuild into web/widget/widget.js): six steps (welcome/trust, wallet, hardware
 * limits, SIWE verification, live session, withdraw). Nothing is fetched, stored or run before the visitor presses
 * Continue on the first screen: the wallet bundle, the placement's config, IndexedDB and localStorage are touched
 * only after that, and the compute Worker is created only after the visitor agreed to the limits. Messages with
 * the host page are described in docs/widget.md and only ever go to, or are accepted from, the validated host
 * origin.
 */
import { $ } from "../shared/dom.js";
import { S } from "./state.js";
import { show, postToHost } from "./steps.js";
import { accept } from "./consent.js";
import { walletPanel, createWallet, showConfirm, showPhraseAgain, confirmWords, importPhrase,
  connectBrowserWallet, useStored, skipWallet } from "./wallet-step.js";
import { openLimits, submitLimits } from "./limits-step.js";
import { verifyWallet } from "./verify-step.js";
import { setPaused, stopOrRestart, tick, sendVisibility } from "./session.js";
import { openPayouts, addWalletLater, withdraw, withdrawAll, pollPayouts } from "./payouts.js";
import { onHostMessage } from "./host-requests.js";

/**
 * @param {string} id
 * @param {string} type
 * @param {(event: any) => unknown} fn
 */
function on(id, type, fn) { $(id).addEventListener(type, fn); }

document.addEventListener("DOMContentLoaded", () => {
  document.body.setAttribute("data-step", "welcome");
  on("consent-accept", "click", accept);
  on("consent-decline", "click", () => { show("declined"); postToHost("status", {step: "declined"}); });
  on("reconsider", "click", () => { show("welcome"); });
  on("wallet-create", "click", createWallet);
  on("wallet-import-show", "click", () => { walletPanel("wallet-import"); $("import-phrase").focus(); });
  on("import-cancel", "click", () => { walletPanel("wallet-choice"); });
  on("wallet-import", "submit", importPhrase);
  on("wallet-connect", "click", connectBrowserWallet);
  on("wallet-use-stored", "click", useStored);
  on("wallet-skip", "click", skipWallet);
  on("phrase-continue", "click", showConfirm);
  on("confirm-back", "click", showPhraseAgain);
  on("wallet-confirm", "submit", confirmWords);
  on("limit-cpu", "input", () => { $("limit-cpu-value").textContent = $("limit-cpu").value; });
  on("limits-form", "submit", submitLimits);
  on("limits-cancel", "click", () => { show("session"); });
  on("verify-sign", "click", verifyWallet);
  on("verify-back", "click", () => {
    if (S.afterVerify === "relink") { show("session"); } else { openLimits(false); }
  });
  on("pause-toggle", "click", () => { setPaused(!S.visitorPaused); });
  on("stop", "click", stopOrRestart);
  on("limits-edit", "click", () => { openLimits(true); });
  on("to-payouts", "click", openPayouts);
  on("payouts-back", "click", () => { show("session"); });
  on("payouts-add-wallet", "click", addWalletLater);
  on("withdraw-form", "submit", withdraw);
  on("withdraw-all", "click", withdrawAll);
  document.addEventListener("visibilitychange", sendVisibility);
  window.addEventListener("message", onHostMessage);
  setInterval(tick, 1000);
  setInterval(pollPayouts, 3000);
  show("welcome");
  postToHost("ready", {step: "welcome"});
});
