/*
 * Step 1, after the visitor pressed Continue: only now are the placement's config and the wallet bundle fetched
 * and IndexedDB read. A placement that is missing, inactive or not allowed on this page refuses to start.
 */
import { $, showError, errorText } from "../shared/dom.js";
import { loadWalletBundle } from "../shared/wallet-phrase.js";
import { S, DEFAULT_CAPS, hostOrigin, placementId } from "./state.js";
import { show, hostNotice } from "./steps.js";
import { walletPanel } from "./wallet-step.js";

/** A refusal to run here: shown on the session step, not as a transient error. */
class Refused extends Error {}

function parentOrigin() {
  const ao = window.location.ancestorOrigins;
  return ao && ao.length > 0 ? ao[0] : hostOrigin;
}

/**
 * The placement's limits as caps, each missing or mistyped one taken from DEFAULT_CAPS.
 * @param {any} l the limits member of widget-config
 * @returns {import("./state.js").Caps}
 */
export function capsOf(l) {
  l = l || {};
  return {
    cpu_share: typeof l.cpu_share === "number" ? l.cpu_share : DEFAULT_CAPS.cpu_share,
    gpu: typeof l.gpu === "boolean" ? l.gpu : DEFAULT_CAPS.gpu,
    memory_mb: typeof l.memory_mb === "number" ? l.memory_mb : DEFAULT_CAPS.memory_mb,
    bandwidth_kbps: typeof l.bandwidth_kbps === "number" ? l.bandwidth_kbps : DEFAULT_CAPS.bandwidth_kbps
  };
}

async function loadConfig() {
  if (!placementId) {
    throw new Error("This widget was embedded without a placement id, so it cannot start.");
  }
  const origin = parentOrigin();
  /** @type {Response} */
  let r;
  try {
    r = await fetch("/api/placements/" + encodeURIComponent(placementId) + "/widget-config"
        + (origin ? "?origin=" + encodeURIComponent(origin) : ""), {credentials: "omit"});
  } catch (e) {
    throw new Error("Earn Idle cannot be reached right now, so nothing is running.");
  }
  const cfg = r.ok ? await r.json()
    : {status: "unknown", message: "This placement does not exist, so nothing will run."};
  if (cfg.status !== "active" || cfg.origin_allowed === false) {
    throw new Refused(cfg.message || "Earn Idle is not available here, so nothing will run.");
  }
  S.config = cfg;
  S.caps = capsOf(cfg.limits);
  return cfg;
}

/** @param {string} message */
function refuse(message) {
  $("state").textContent = "Not started.";
  $("state").setAttribute("data-state", "refused");
  ["pause-toggle", "stop", "limits-edit", "to-payouts"].forEach((id) => { $(id).disabled = true; });
  S.state = "refused";
  show("session");
  showError("message", message);
}

export async function accept() {
  S.consented = true;
  showError("message", "");
  hostNotice("");
  $("consent-accept").disabled = true;
  try {
    await loadConfig();
    if (!S.wallet) { S.wallet = await loadWalletBundle("could not load /widget/wallet.bundle.js"); }
    const stored = await S.wallet.storedAddress().catch(() => null);
    $("consent-accept").disabled = false;
    $("wallet-stored").hidden = !stored;
    $("wallet-use-stored").hidden = !stored;
    $("wallet-stored-address").textContent = stored || "";
    const ethereum = /** @type {any} */ (window).ethereum;
    $("wallet-connect").hidden = !(ethereum && typeof ethereum.request === "function");
    walletPanel("wallet-choice");
    show("wallet");
  } catch (e) {
    $("consent-accept").disabled = false;
    if (e instanceof Refused) { refuse(e.message); } else { showError("message", errorText(e)); }
  }
}
