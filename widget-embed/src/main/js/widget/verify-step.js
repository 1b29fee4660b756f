/* Step 4, proving the wallet: a SIWE (EIP-4361) message from the backend's nonce, signed, exchanged for a token. */
import { $, showError, errorText } from "../shared/dom.js";
import { S } from "./state.js";
import { show } from "./steps.js";
import { postJson } from "./api.js";
import { startSession } from "./session.js";
import { openPayouts } from "./payouts.js";

export function prepareVerify() {
  $("verify-message").hidden = true;
  $("verify-sign").disabled = false;
  showError("verify-error", "");
}

export async function verifyWallet() {
  const signer = S.signer;
  if (!signer || !S.wallet) { return; }
  $("verify-sign").disabled = true;
  showError("verify-error", "");
  try {
    const n = await postJson("/api/wallets/siwe/nonce", {});
    const message = S.wallet.siweMessage({
      domain: window.location.host, address: signer.address, statement: n.statement, uri: window.location.origin,
      chainId: n.chain_id, nonce: n.nonce, issuedAt: n.issued_at, expirationTime: n.expires_at
    });
    $("verify-message").textContent = message;
    $("verify-message").hidden = false;
    const signature = await signer.personalSign(message);
    const v = await postJson("/api/wallets/siwe/verify", {message, signature});
    S.walletToken = v.wallet_token;
    S.verifiedAddress = v.address;
    $("verify-sign").disabled = false;
    if (S.afterVerify === "relink") {
      // The running session was registered without a wallet: the node links it (POST /api/wallets/sessions),
      // so what it earned so far moves to the wallet too, and it keeps running.
      S.afterVerify = "session";
      if (S.worker) {
        S.worker.postMessage({type: "link", wallet_token: S.walletToken});
        $("session-wallet").textContent = signer.address;
        show("session");
      } else {
        startSession();
      }
      openPayouts();
    } else {
      startSession();
    }
  } catch (e) {
    $("verify-sign").disabled = false;
    showError("verify-error", "Verification failed: " + errorText(e));
  }
}
