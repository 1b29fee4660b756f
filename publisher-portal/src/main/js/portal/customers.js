/*
 * The customer side of the account: balance, API keys (create: the secret is shown once; list by name and prefix;
 * revoke) and the usage dashboard (spend, tokens, p50/p99 latency by model and key, charts by day). Refreshed with
 * the dashboard's poll. Every value from the server is inserted as text.
 */
import { $, dailyBarChart, el, errorText, formatMicroUsdc as usdc, showError } from "../shared.js";
import { api, say } from "./api.js";

/**
 * @param {string} id
 * @param {number} micro
 */
function setMicro(id, micro) {
  $(id).textContent = usdc(micro);
  $(id).setAttribute("data-micro-usdc", String(micro));
}

/** @param {number | null} ms */
function millis(ms) { return ms === null || ms === undefined ? "–" : String(ms); }

/** @param {any[]} keys GET /api/customer/keys data */
function renderKeys(keys) {
  const body = $("keys").querySelector("tbody");
  body.textContent = "";
  keys.forEach((k) => {
    const tr = el("tr", {"data-key-id": k.id});
    tr.appendChild(el("td", null, k.name));
    tr.appendChild(el("td", null, k.prefix ? k.prefix + "…" : "(migrated)"));
    tr.appendChild(el("td", null, new Date(k.created_at).toLocaleString()));
    tr.appendChild(el("td", {"class": "key-status"}, k.revoked_at ? "revoked " + new Date(k.revoked_at).toLocaleString()
      : "active"));
    const action = el("td");
    if (!k.revoked_at) {
      const button = el("button", {"type": "button", "class": "secondary key-revoke"}, "Revoke");
      button.setAttribute("aria-label", "Revoke key " + k.name);
      button.addEventListener("click", () => { revokeKey(k); });
      action.appendChild(button);
    }
    tr.appendChild(action);
    body.appendChild(tr);
  });
  $("keys").hidden = keys.length === 0;
  $("keys-empty").hidden = keys.length > 0;
}

/**
 * @param {HTMLElement} body
 * @param {string} label
 * @param {any} g a usage group (jobs, spend, tokens, latency)
 */
function groupRow(body, label, g) {
  const tr = el("tr");
  tr.appendChild(el("th", {"scope": "row"}, label));
  tr.appendChild(el("td", null, String(g.jobs)));
  tr.appendChild(el("td", null, usdc(g.spend_micro_usdc)));
  tr.appendChild(el("td", null, String(g.completion_tokens)));
  tr.appendChild(el("td", null, millis(g.p50_latency_ms)));
  tr.appendChild(el("td", null, millis(g.p99_latency_ms)));
  body.appendChild(tr);
}

/** @param {any} u GET /api/customer/usage */
function renderUsage(u) {
  setMicro("cust-spend", u.totals.spend_micro_usdc);
  $("cust-tokens").textContent = String(u.totals.completion_tokens);
  $("cust-p50").textContent = millis(u.totals.p50_latency_ms);
  $("cust-p99").textContent = millis(u.totals.p99_latency_ms);
  const groups = /** @type {HTMLElement} */ ($("usage-groups").querySelector("tbody"));
  groups.textContent = "";
  u.by_model.forEach((/** @type {any} */ g) => { groupRow(groups, "model " + g.model, g); });
  u.by_key.forEach((/** @type {any} */ g) => {
    groupRow(groups, g.key_id === null ? "no key (platform)" : "key " + (g.name || g.key_id)
      + (g.prefix ? " (" + g.prefix + "…)" : ""), g);
  });
  const days = u.by_day.map((/** @type {any} */ d) => d.day);
  dailyBarChart($("spend-chart"), days, u.by_day.map((/** @type {any} */ d) => d.spend_micro_usdc / 1e6),
    "Spend (USDC)", (v) => v.toFixed(4));
  dailyBarChart($("tokens-chart"), days, u.by_day.map((/** @type {any} */ d) => d.completion_tokens),
    "Tokens", (v) => String(Math.round(v)));
  $("spend-chart").setAttribute("data-total-micro-usdc", String(u.totals.spend_micro_usdc));
  $("tokens-chart").setAttribute("data-total-tokens", String(u.totals.completion_tokens));
  const body = $("usage-days").querySelector("tbody");
  body.textContent = "";
  u.by_day.forEach((/** @type {any} */ d) => {
    const tr = el("tr");
    tr.appendChild(el("td", null, d.day));
    tr.appendChild(el("td", null, String(d.jobs)));
    tr.appendChild(el("td", null, usdc(d.spend_micro_usdc)));
    tr.appendChild(el("td", null, String(d.completion_tokens)));
    body.appendChild(tr);
  });
}

/** Reloads balance, keys and usage (errors other than a new key's are left to the dashboard's poll). */
export function refreshCustomer() {
  return Promise.all([api("GET", "/api/customer/me"), api("GET", "/api/customer/keys"),
    api("GET", "/api/customer/usage")]).then(([me, keys, usage]) => {
    setMicro("cust-balance", me.balance_micro_usdc);
    setMicro("cust-committed", me.committed_micro_usdc);
    renderKeys(keys.data);
    renderUsage(usage);
  }).catch(() => null);
}

/** @param {Event} event */
export function createKey(event) {
  event.preventDefault();
  const name = $("key-name").value.trim();
  if (!name) { showError("key-error", "Name the key after where it will be used."); return; }
  showError("key-error", "");
  api("POST", "/api/customer/keys", {name}).then((k) => {
    $("key-secret").textContent = k.secret;
    $("key-secret-box").hidden = false;
    $("key-name").value = "";
    say("Key " + k.name + " created. Copy it now: it is shown only once.");
    return refreshCustomer();
  }).catch((e) => { showError("key-error", errorText(e)); });
}

/** @param {any} k the key to revoke */
function revokeKey(k) {
  if (!window.confirm("Revoke key " + k.name + "? Requests with it will be refused from now on.")) { return; }
  api("POST", "/api/customer/keys/" + encodeURIComponent(k.id) + "/revoke").then(() => {
    say("Key " + k.name + " revoked.");
    return refreshCustomer();
  }).catch((e) => { say(errorText(e)); });
}
