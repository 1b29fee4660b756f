/*
 * Earn Idle publisher portal (bundled by esbuild into web/portal/portal.js): account, domains (DNS TXT
 * verification), placements with embed code, passkeys, payout wallet, withdrawals, a dashboard that polls the
 * API, and the account's customer side (API keys and usage). Every value from the server is inserted as text (textContent / attributes), never as HTML: names, domains
 * and messages are user input.
 */
import { $ } from "../shared.js";
import { api } from "./api.js";
import { onSignedIn, passkeySignIn, registerPasskey, showSignedOut, signIn, signOut, signUp } from "./account.js";
import { createKey } from "./customers.js";
import { addDomain } from "./domains.js";
import { createPlacement } from "./placements.js";
import { walletBrowserSign, walletCreate, walletMessage, walletNewConfirm, walletNewContinue, walletProve }
  from "./payout-wallet.js";
import { withdraw, withdrawAll } from "./withdraw.js";

document.addEventListener("DOMContentLoaded", () => {
  $("signin-form").addEventListener("submit", signIn);
  $("signup-form").addEventListener("submit", signUp);
  $("passkey-signin").addEventListener("click", passkeySignIn);
  $("signout").addEventListener("click", () => { signOut(false); });
  $("signout-everywhere").addEventListener("click", () => { signOut(true); });
  $("domain-form").addEventListener("submit", addDomain);
  $("key-form").addEventListener("submit", createKey);
  $("placement-form").addEventListener("submit", createPlacement);
  $("passkey-register").addEventListener("click", registerPasskey);
  $("wallet-form").addEventListener("submit", walletMessage);
  $("wallet-browser-sign").addEventListener("click", walletBrowserSign);
  $("wallet-prove").addEventListener("click", walletProve);
  $("wallet-create").addEventListener("click", walletCreate);
  $("wallet-new-continue").addEventListener("click", walletNewContinue);
  $("wallet-new-confirm").addEventListener("submit", walletNewConfirm);
  $("withdraw-form").addEventListener("submit", withdraw);
  $("withdraw-all").addEventListener("click", withdrawAll);
  if (!window.PublicKeyCredential) {
    $("passkey-signin").hidden = true;
    $("passkey-register").disabled = true;
    $("passkey-status").textContent = "This browser does not support passkeys.";
  }
  api("GET", "/api/publisher/me").then(onSignedIn).catch(() => { showSignedOut(); });
});
