/*
 * Requests from the host page (docs/widget.md): accepted only from the validated host origin and the parent
 * window. The host may only ask: starting always needs the visitor's own consent in this frame.
 */
import { S, hostOrigin } from "./state.js";
import { postToHost, hostNotice } from "./steps.js";
import { setPaused } from "./session.js";

/** @param {MessageEvent} event */
export function onHostMessage(event) {
  const d = event.data;
  if (!d || typeof d !== "object" || d.source !== "earnidle-host") { return; }
  if (!hostOrigin || event.origin !== hostOrigin || event.source !== window.parent) {
    S.rejectedMessages++;
    document.body.setAttribute("data-rejected-messages", String(S.rejectedMessages));
    return;
  }
  if (d.type !== "request") { return; }
  if (d.action === "start") {
    if (S.worker && !S.stopped && S.visitorPaused) {
      hostNotice("This site asks you to resume. Press Resume if you agree.");
    } else if (!S.worker || S.stopped) {
      hostNotice("This site invites you to start contributing. Review what it means below; nothing starts "
          + "until you agree.");
    }
    postToHost("request", {action: "start", outcome: S.worker && !S.stopped && !S.visitorPaused
        ? "already-running" : "needs-consent"});
  } else if (d.action === "pause") {
    const ran = S.worker && !S.stopped && !S.visitorPaused;
    if (ran) { setPaused(true); hostNotice("Paused at this site's request. Press Resume to continue."); }
    postToHost("request", {action: "pause", outcome: ran ? "paused" : "not-running"});
  }
}
