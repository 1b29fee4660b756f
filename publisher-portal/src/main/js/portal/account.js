/* Signed out (the network's placements, sign in, sign up), signed in, sign out, and passkeys (WebAuthn). */
import { $, el, showError } from "../shared.js";
import { api, say, setCsrf } from "./api.js";
import { P } from "./state.js";
import { b64url, fromB64url } from "./webauthn.js";
import { loadDomains } from "./domains.js";
import { loadPlacements } from "./placements.js";
import { refreshDashboard } from "./dashboard.js";
import { refreshCustomer } from "./customers.js";
import { payoutConfig } from "./withdraw.js";

/**
 * The embed code of a placement, as the network table shows it.
 * @param {string} origin
 * @param {string} placementId
 * @returns {string}
 */
export function embedScript(origin, placementId) {
  return '<script src="' + origin + '/embed.js" data-placement="' + placementId + '" async></' + 'script>';
}

/** @param {any[]} placements GET /api/placements */
function renderNetwork(placements) {
  const status = $("placements-status");
  const table = $("placements");
  const body = table.querySelector("tbody");
  body.textContent = "";
  placements.forEach((p) => {
    const row = el("tr", {"data-placement-id": p.id});
    row.appendChild(el("td", null, p.id));
    row.appendChild(el("td", null, p.publisher_name || p.publisher_id));
    row.appendChild(el("td", null, (p.publisher_share_bps / 100).toFixed(2) + " %"));
    row.appendChild(el("td", null, p.status));
    const td = el("td");
    td.appendChild(el("code", null, embedScript(window.location.origin, p.id)));
    row.appendChild(td);
    body.appendChild(row);
  });
  status.textContent = placements.length === 0 ? "No placements yet." :
      placements.length + (placements.length === 1 ? " placement" : " placements");
  table.hidden = placements.length === 0;
}

export function showSignedOut() {
  stopPolling();
  setCsrf(null);
  $("signed-in").hidden = true;
  $("account-bar").hidden = true;
  $("signed-out").hidden = false;
  api("GET", "/api/placements").then((b) => { renderNetwork(b.placements || []); })
    .catch((e) => { $("placements-status").textContent = "Could not load placements: " + e.message; });
}

/** @param {any} me GET /api/publisher/me */
export function onSignedIn(me) {
  setCsrf(me.csrf_token);
  $("signed-out").hidden = true;
  $("signed-in").hidden = false;
  $("account-bar").hidden = false;
  $("account-email").textContent = me.email;
  $("passkey-count").textContent = String(me.passkeys || 0);
  $("wallet-current").textContent = me.payout_address || "none yet";
  P.awaitingPayout = null;
  payoutConfig().catch(() => null);
  loadDomains();
  loadPlacements();
  refreshDashboard();
  stopPolling();
  refreshCustomer();
  P.pollTimer = setInterval(() => { refreshDashboard(); refreshCustomer(); }, 3000);
}

function stopPolling() {
  if (P.pollTimer) { clearInterval(P.pollTimer); P.pollTimer = null; }
}

/**
 * @param {string} prefix
 * @returns {{email: string, password: string, name?: string}}
 */
function formCredentials(prefix) {
  return {email: $(prefix + "-email").value.trim(), password: $(prefix + "-password").value};
}

/** @param {Event} event */
export function signIn(event) {
  event.preventDefault();
  showError("signin-error", "");
  const c = formCredentials("signin");
  if (!c.email || !c.password) { showError("signin-error", "Enter your e-mail and password."); return; }
  api("POST", "/api/publisher/signin", c).then(() => api("GET", "/api/publisher/me"))
    .then((me) => { $("signin-password").value = ""; say("Signed in."); onSignedIn(me); })
    .catch((e) => { showError("signin-error", e.message); });
}

/** @param {Event} event */
export function signUp(event) {
  event.preventDefault();
  showError("signup-error", "");
  const c = formCredentials("signup");
  const name = $("signup-name").value.trim();
  if (name) { c.name = name; }
  if (c.password.length < 12) { showError("signup-error", "The password needs at least 12 characters."); return; }
  api("POST", "/api/publisher/signup", c).then(() => api("GET", "/api/publisher/me"))
    .then((me) => { $("signup-password").value = ""; say("Account created. Welcome!"); onSignedIn(me); })
    .catch((e) => { showError("signup-error", e.message); });
}

/** @param {boolean} everywhere end every session of the account, not only this one */
export function signOut(everywhere) {
  api("POST", everywhere ? "/api/publisher/signout-everywhere" : "/api/publisher/signout")
    .then((r) => {
      say(everywhere ? "Signed out on every device (" + (r ? r.sessions_ended : 0) + " sessions)." : "Signed out.");
      showSignedOut();
    })
    .catch((e) => { say("Could not sign out: " + e.message); });
}

export function registerPasskey() {
  const status = $("passkey-status");
  status.textContent = "Follow your browser's prompt…";
  /** @type {string} */
  let challengeId;
  api("POST", "/api/publisher/passkeys/options", {}).then((o) => {
    challengeId = o.challenge_id;
    const pk = o.public_key;
    pk.challenge = fromB64url(pk.challenge);
    pk.user.id = fromB64url(pk.user.id);
    pk.excludeCredentials = (pk.excludeCredentials || []).map((/** @type {any} */ c) =>
      ({type: c.type, id: fromB64url(c.id)}));
    return navigator.credentials.create({publicKey: pk});
  }).then((credential) => {
    const cred = /** @type {any} */ (credential);
    return api("POST", "/api/publisher/passkeys", {
      challenge_id: challengeId,
      client_data_json: b64url(cred.response.clientDataJSON),
      attestation_object: b64url(cred.response.attestationObject),
      transports: cred.response.getTransports ? cred.response.getTransports() : []
    });
  }).then(() => api("GET", "/api/publisher/me"))
    .then((me) => {
      $("passkey-count").textContent = String(me.passkeys);
      status.textContent = "Passkey added. You can now sign in with it.";
    })
    .catch((e) => { status.textContent = "The passkey was not added: " + e.message; });
}

export function passkeySignIn() {
  showError("signin-error", "");
  /** @type {string} */
  let challengeId;
  api("POST", "/api/publisher/passkey-signin/options", {}).then((o) => {
    challengeId = o.challenge_id;
    const pk = o.public_key;
    pk.challenge = fromB64url(pk.challenge);
    return navigator.credentials.get({publicKey: pk});
  }).then((credential) => {
    const cred = /** @type {any} */ (credential);
    return api("POST", "/api/publisher/passkey-signin", {
      challenge_id: challengeId,
      credential_id: b64url(cred.rawId),
      client_data_json: b64url(cred.response.clientDataJSON),
      authenticator_data: b64url(cred.response.authenticatorData),
      signature: b64url(cred.response.signature),
      user_handle: cred.response.userHandle ? b64url(cred.response.userHandle) : null
    });
  }).then(() => api("GET", "/api/publisher/me"))
    .then((me) => { say("Signed in with a passkey."); onSignedIn(me); })
    .catch((e) => { showError("signin-error", "Passkey sign-in failed: " + e.message); });
}
