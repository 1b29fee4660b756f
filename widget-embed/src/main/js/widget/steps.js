/* The six steps (one visible section at a time) and the messages to and from the host page (strict origins). */
import { $ } from "../shared/dom.js";
import { S, hostOrigin, placementId } from "./state.js";

export const STEPS = ["welcome", "wallet", "limits", "verify", "session", "payouts"];

/** @type {Record<string, string>} the section of each step */
export const SECTION = {welcome: "step-welcome", wallet: "step-wallet", limits: "step-limits", verify: "step-verify",
  session: "session", payouts: "step-payouts", declined: "declined"};

/**
 * Shows one step and tells the host page.
 * @param {string} step
 */
export function show(step) {
  S.step = step;
  Object.keys(SECTION).forEach((k) => { $(SECTION[k]).hidden = k !== step; });
  const at = STEPS.indexOf(step);
  Array.prototype.forEach.call($("steps").children, (/** @type {HTMLElement} */ li, /** @type {number} */ i) => {
    if (i === at) { li.setAttribute("aria-current", "step"); } else { li.removeAttribute("aria-current"); }
    li.classList.toggle("done", at >= 0 && i < at);
  });
  document.body.setAttribute("data-step", step);
  // Keyboard and screen-reader users land at the start of the new step.
  if (S.consented) { $(SECTION[step]).focus({preventScroll: false}); }
  postToHost("status", statusDetail());
}

/**
 * Posts a message to the host page, only to its validated origin.
 * @param {string} type
 * @param {Record<string, unknown>} [detail]
 */
export function postToHost(type, detail) {
  if (!hostOrigin || window.parent === window) { return; }
  /** @type {Record<string, unknown>} */
  const msg = {source: "earnidle", version: 1, type, placement: placementId};
  Object.keys(detail || {}).forEach((k) => { msg[k] = /** @type {Record<string, unknown>} */ (detail)[k]; });
  window.parent.postMessage(msg, hostOrigin);
}

export function statusDetail() {
  return {step: S.step, state: S.state, paused_reason: S.lastStatus.paused_reason || null,
    visitor_paused: S.visitorPaused};
}

/** @param {string} text */
export function hostNotice(text) {
  $("host-request").textContent = text || "";
  $("host-request").hidden = !text;
}
