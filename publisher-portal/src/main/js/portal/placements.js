/* The publisher's placements: create, pause / resume, and their embed code (script tag and iframe fallback). */
import { $, el, showError } from "../shared.js";
import { api, say } from "./api.js";

/**
 * The facts a placement card lists: [label, text] pairs.
 * @param {any} p a placement of GET /api/publisher/placements
 * @returns {string[][]}
 */
export function placementFacts(p) {
  return [["Where", (p.domain || "–") + (p.path_prefix || "")], ["Page id", p.page_id || "–"],
    ["Your share", (p.publisher_share_bps / 100).toFixed(2) + " %"],
    ["Limits", "CPU " + Math.round(p.limits.cpu_share * 100) + " %, GPU " + (p.limits.gpu ? "on" : "off") +
      (p.limits.bandwidth_kbps ? ", " + p.limits.bandwidth_kbps + " kbit/s" : "") +
      (p.limits.memory_mb ? ", " + p.limits.memory_mb + " MB" : "")],
    ["Allowed origins", (p.allowed_origins || []).join(" ") || "none"]];
}

/**
 * The status badge's text.
 * @param {any} p
 * @returns {string}
 */
export function placementBadge(p) {
  if (p.status === "suspended") { return "Suspended: " + (p.suspended_reason || "its domain is not verified"); }
  return p.status === "paused" ? "Paused" : "Active";
}

export function loadPlacements() {
  return api("GET", "/api/publisher/placements").then((b) => {
    if (b.rate_card) {
      const rateCard = {min: b.rate_card.publisher_share_min_bps, max: b.rate_card.publisher_share_max_bps};
      $("share-bounds").textContent = (rateCard.min / 100) + "–" + (rateCard.max / 100);
      $("pl-share").min = String(rateCard.min / 100);
      $("pl-share").max = String(rateCard.max / 100);
    }
    renderPlacements(b.placements || []);
  }).catch((e) => { showError("placement-error", "Could not load placements: " + e.message); });
}

/**
 * @param {string} text
 * @param {HTMLElement} status
 */
function copyText(text, status) {
  function done() { status.textContent = "Copied to the clipboard."; }
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(text).then(done, () => { fallbackCopy(text, status); });
  } else {
    fallbackCopy(text, status);
  }
}

/**
 * @param {string} text
 * @param {HTMLElement} status
 */
function fallbackCopy(text, status) {
  const ta = el("textarea", {"aria-hidden": "true"});
  ta.value = text;
  ta.style.position = "fixed";
  ta.style.opacity = "0";
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
  document.body.removeChild(ta);
  status.textContent = ok ? "Copied to the clipboard." : "Select the code and copy it with Ctrl+C / ⌘C.";
}

/**
 * @param {HTMLElement} li
 * @param {string} label
 * @param {string} text
 * @param {string} kind
 * @param {string} placementId
 */
function snippet(li, label, text, kind, placementId) {
  const wrap = el("div", {"class": "snippet"});
  const codeId = "code-" + kind + "-" + placementId;
  wrap.appendChild(el("p", {"id": codeId + "-label"}, label));
  const pre = el("pre", {"id": codeId, "class": "embed-" + kind, "aria-labelledby": codeId + "-label",
    "tabindex": "0"});
  pre.textContent = text;
  wrap.appendChild(pre);
  const status = el("span", {"class": "copy-status", "role": "status", "aria-live": "polite"});
  const button = el("button", {"type": "button", "class": "copy copy-" + kind}, "Copy");
  button.setAttribute("aria-label", "Copy " + label.toLowerCase());
  button.addEventListener("click", () => { copyText(text, status); });
  wrap.appendChild(button);
  wrap.appendChild(status);
  li.appendChild(wrap);
}

/**
 * @param {any} p
 * @param {HTMLElement} err
 */
function pauseToggle(p, err) {
  const toggle = el("button", {"type": "button", "class": "secondary pause-toggle"}, p.paused ? "Resume" : "Pause");
  toggle.setAttribute("aria-label", (p.paused ? "Resume " : "Pause ") + p.id);
  toggle.addEventListener("click", () => {
    const body = {name: p.name, page_id: p.page_id, domain: p.domain, path_prefix: p.path_prefix,
      limits: p.limits, publisher_share_bps: p.publisher_share_bps, status: p.paused ? "active" : "paused"};
    api("PUT", "/api/publisher/placements/" + encodeURIComponent(p.id), body)
      .then(() => { loadPlacements(); })
      .catch((e) => { err.textContent = e.message; err.hidden = false; });
  });
  return toggle;
}

/** @param {any[]} placements */
function renderPlacements(placements) {
  const list = $("my-placements");
  list.textContent = "";
  if (placements.length === 0) {
    list.appendChild(el("li", {"class": "hint"}, "No placements yet. Verify a domain, then create one above."));
  }
  placements.forEach((p) => {
    const li = el("li", {"class": "card placement", "data-placement-id": p.id, "data-status": p.status});
    li.appendChild(el("h3", null, p.name + " (" + p.id + ")"));
    li.appendChild(el("p", {"class": "badge " + p.status}, placementBadge(p)));
    const dl = el("dl", {"class": "facts"});
    placementFacts(p).forEach((f) => {
      dl.appendChild(el("dt", null, f[0]));
      dl.appendChild(el("dd", null, f[1]));
    });
    li.appendChild(dl);
    snippet(li, "Script tag", p.embed.script, "script", p.id);
    snippet(li, "Iframe fallback", p.embed.iframe, "iframe", p.id);
    const err = el("p", {"class": "error", "role": "alert", "hidden": ""});
    li.appendChild(el("div", {"class": "actions"})).appendChild(pauseToggle(p, err));
    li.appendChild(err);
    list.appendChild(li);
  });
}

/** @param {Event} event */
export function createPlacement(event) {
  event.preventDefault();
  showError("placement-error", "");
  const share = Number($("pl-share").value);
  const body = {
    id: $("pl-id").value.trim(),
    name: $("pl-name").value.trim(),
    page_id: $("pl-page").value.trim(),
    domain: $("pl-domain").value.trim(),
    path_prefix: $("pl-path").value.trim() || "/",
    limits: {cpu_share: Number($("pl-cpu").value), gpu: $("pl-gpu").checked,
      bandwidth_kbps: Math.round(Number($("pl-bw").value)), memory_mb: Math.round(Number($("pl-mem").value))},
    publisher_share_bps: Math.round(share * 100),
    status: "active"
  };
  if (!body.id || !body.name || !body.domain) {
    showError("placement-error", "Placement id, name and domain are required.");
    return;
  }
  api("POST", "/api/publisher/placements", body)
    .then((p) => { say("Placement " + p.id + " created."); $("pl-id").value = ""; loadPlacements(); })
    .catch((e) => { showError("placement-error", e.message); });
}
