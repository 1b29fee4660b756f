/* Domains: proven by a DNS TXT record, checked on demand and re-checked by the server. */
import { $, el, showError } from "../shared.js";
import { api, say } from "./api.js";
import { loadPlacements } from "./placements.js";
import { refreshDashboard } from "./dashboard.js";

/** @type {Record<string, string>} */
const STATUS_TEXT = {pending: "Waiting for the DNS record", verified: "Verified",
  failing: "Record missing at the last re-check", lost: "Claimed by another account"};

export function loadDomains() {
  return api("GET", "/api/publisher/domains").then((b) => { renderDomains(b.domains || []); })
    .catch((e) => { showError("domain-error", "Could not load domains: " + e.message); });
}

/** @param {any} d a domain of GET /api/publisher/domains */
function recordList(d) {
  const dl = el("dl", {"class": "record"});
  dl.appendChild(el("dt", null, "Name"));
  dl.appendChild(el("dd", null)).appendChild(el("code", {"class": "record-name"}, d.record.name));
  dl.appendChild(el("dt", null, "Type"));
  dl.appendChild(el("dd", null, "TXT"));
  dl.appendChild(el("dt", null, "Value"));
  dl.appendChild(el("dd", null)).appendChild(el("code", {"class": "record-value"}, d.record.value));
  return dl;
}

/**
 * @param {any} d
 * @param {HTMLElement} err where this card shows its errors
 */
function checkButton(d, err) {
  const check = el("button", {"type": "button", "class": "check-now"}, "Check now");
  check.setAttribute("aria-label", "Check now: " + d.domain);
  check.addEventListener("click", () => {
    err.hidden = true;
    check.disabled = true;
    api("POST", "/api/publisher/domains/" + encodeURIComponent(d.id) + "/check")
      .then(() => { say(d.domain + " is verified."); loadDomains(); refreshDashboard(); })
      .catch((e) => { err.textContent = e.message; err.hidden = false; check.disabled = false; });
  });
  return check;
}

/**
 * @param {any} d
 * @param {HTMLElement} err
 */
function removeButton(d, err) {
  const remove = el("button", {"type": "button", "class": "secondary"}, "Remove");
  remove.setAttribute("aria-label", "Remove " + d.domain);
  remove.addEventListener("click", () => {
    api("DELETE", "/api/publisher/domains/" + encodeURIComponent(d.id))
      .then(() => { say(d.domain + " removed."); loadDomains(); loadPlacements(); })
      .catch((e) => { err.textContent = e.message; err.hidden = false; });
  });
  return remove;
}

/** @param {any[]} domains */
function renderDomains(domains) {
  const list = $("domains");
  list.textContent = "";
  domains.forEach((d) => {
    const li = el("li", {"class": "card domain", "data-domain": d.domain, "data-status": d.status});
    li.appendChild(el("h3", null, d.domain + (d.include_subdomains ? " (and subdomains)" : "")));
    li.appendChild(el("p", {"class": "badge " + d.status}, STATUS_TEXT[d.status] || d.status));
    if (d.status !== "verified") {
      li.appendChild(el("p", null, "Create this DNS record, then press Check now:"));
      li.appendChild(recordList(d));
    }
    if (d.last_check_detail) {
      li.appendChild(el("p", {"class": "hint"}, "Last check: " + d.last_check_detail));
    }
    const err = el("p", {"class": "error", "role": "alert", "hidden": ""});
    const actions = el("div", {"class": "actions"});
    if (d.status !== "lost") { actions.appendChild(checkButton(d, err)); }
    actions.appendChild(removeButton(d, err));
    li.appendChild(actions);
    li.appendChild(err);
    list.appendChild(li);
  });
}

/** @param {Event} event */
export function addDomain(event) {
  event.preventDefault();
  showError("domain-error", "");
  const domain = $("domain-input").value.trim();
  if (!domain) { showError("domain-error", "Enter a domain name like example.com."); return; }
  api("POST", "/api/publisher/domains", {domain, include_subdomains: $("domain-subdomains").checked})
    .then((d) => { $("domain-input").value = ""; say("Added " + d.domain + "."); loadDomains(); })
    .catch((e) => { showError("domain-error", e.message); $("domain-input").focus(); });
}
