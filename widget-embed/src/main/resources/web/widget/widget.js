/*
 * The visitor's iframe: six steps (welcome/trust, wallet, hardware limits, SIWE verification, live session,
 * withdraw). Nothing is fetched, stored or run before the visitor presses Continue on the first screen: the wallet
 * bundle, the placement's config, IndexedDB and localStorage are touched only after that, and the compute Worker
 * (browser-node, Java compiled to WebAssembly) is created only after the visitor agreed to the limits.
 * Messages with the worker follow notes/TEAM-CONTRACT.md ("Worker <-> widget page messages, v2"); messages with the
 * host page are described in docs/widget.md and only ever go to, or are accepted from, the validated host origin.
 */
(function () {
  "use strict";

  var params = new URLSearchParams(window.location.search);
  var placementId = params.get("placement") || "";
  var hostOrigin = validOrigin(params.get("host"));
  var LIMITS_KEY = "earnidle.limits.v1";
  var DEFAULT_CAPS = {cpu_share: 1, gpu: true, memory_mb: 16384, bandwidth_kbps: 1000000};

  var S = {
    step: "welcome",
    consented: false,
    wallet: null,          // EarnIdleWallet bundle, loaded after consent
    config: null,          // widget-config of the placement
    caps: DEFAULT_CAPS,
    signer: null,          // {address, personalSign, signTypedData}
    walletKind: null,      // "device" | "browser"
    phrase: null,          // shown once, kept in memory only until confirmed
    confirmIdx: [],
    walletToken: null,
    verifiedAddress: null, // lowercase, as the backend returns it
    limits: null,
    worker: null,
    state: null,
    visitorPaused: false,
    stopped: false,
    sessionStartedAt: 0,
    lastStatus: {},
    earnings: {available: 0, pending: 0, jobs: 0},
    payoutConfig: null,
    me: null,
    afterVerify: "session", // where verification leads: "session" (first run) or "relink" (wallet added later)
    rejectedMessages: 0
  };

  function $(id) { return document.getElementById(id); }

  function validOrigin(value) {
    if (!value) { return null; }
    try {
      var u = new URL(value);
      return (u.protocol === "https:" || u.protocol === "http:") && u.origin === value ? value : null;
    } catch (e) {
      return null;
    }
  }

  // ---------- formatting ----------

  /** Integer micro-USDC to a decimal string, without floating point. */
  function formatMicroUsdc(micro) {
    if (typeof micro !== "number" || !isFinite(micro)) { return "0.000000"; }
    var negative = micro < 0;
    var digits = String(Math.abs(Math.trunc(micro)));
    while (digits.length < 7) { digits = "0" + digits; }
    return (negative ? "-" : "") + digits.slice(0, digits.length - 6) + "." + digits.slice(digits.length - 6);
  }

  /** "1.5" USDC to 1500000 micro-USDC (string arithmetic), or null when it is not a plain amount. */
  function parseUsdc(text) {
    var m = /^\s*(\d{1,12})(?:[.,](\d{0,6}))?\s*$/.exec(text || "");
    if (!m) { return null; }
    var frac = (m[2] || "");
    while (frac.length < 6) { frac += "0"; }
    return parseInt(m[1], 10) * 1000000 + parseInt(frac, 10);
  }

  function formatDuration(ms) {
    var s = Math.max(0, Math.floor(ms / 1000));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    var mm = (h > 0 && m < 10 ? "0" : "") + m, ss = (sec < 10 ? "0" : "") + sec;
    return (h > 0 ? h + ":" : "") + mm + ":" + ss;
  }

  function formatBytes(n) {
    if (typeof n !== "number" || !isFinite(n)) { return "?"; }
    return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.round(n / 1024) + " KB";
  }

  function setMicro(id, micro) {
    $(id).textContent = formatMicroUsdc(micro);
    $(id).setAttribute("data-micro-usdc", String(micro));
  }

  // ---------- messages and steps ----------

  function showError(id, text) {
    var el = $(id);
    el.textContent = text || "";
    el.hidden = !text;
  }

  function errorText(e) {
    return e && e.message ? e.message : String(e);
  }

  var STEPS = ["welcome", "wallet", "limits", "verify", "session", "payouts"];
  var SECTION = {welcome: "step-welcome", wallet: "step-wallet", limits: "step-limits", verify: "step-verify",
    session: "session", payouts: "step-payouts", declined: "declined"};

  function show(step) {
    S.step = step;
    Object.keys(SECTION).forEach(function (k) { $(SECTION[k]).hidden = k !== step; });
    var at = STEPS.indexOf(step);
    Array.prototype.forEach.call($("steps").children, function (li, i) {
      if (i === at) { li.setAttribute("aria-current", "step"); } else { li.removeAttribute("aria-current"); }
      li.classList.toggle("done", at >= 0 && i < at);
    });
    document.body.setAttribute("data-step", step);
    // Keyboard and screen-reader users land at the start of the new step.
    if (S.consented) { $(SECTION[step]).focus({preventScroll: false}); }
    postToHost("status", statusDetail());
  }

  // ---------- host page messages (strict origins both ways) ----------

  function postToHost(type, detail) {
    if (!hostOrigin || window.parent === window) { return; }
    var msg = {source: "earnidle", version: 1, type: type, placement: placementId};
    Object.keys(detail || {}).forEach(function (k) { msg[k] = detail[k]; });
    window.parent.postMessage(msg, hostOrigin);
  }

  function statusDetail() {
    return {step: S.step, state: S.state, paused_reason: S.lastStatus.paused_reason || null,
      visitor_paused: S.visitorPaused};
  }

  function hostNotice(text) {
    $("host-request").textContent = text || "";
    $("host-request").hidden = !text;
  }

  function onHostMessage(event) {
    var d = event.data;
    if (!d || typeof d !== "object" || d.source !== "earnidle-host") { return; }
    if (!hostOrigin || event.origin !== hostOrigin || event.source !== window.parent) {
      S.rejectedMessages++;
      document.body.setAttribute("data-rejected-messages", String(S.rejectedMessages));
      return;
    }
    if (d.type !== "request") { return; }
    if (d.action === "start") {
      // The host may only ask; the visitor decides inside this frame.
      if (S.worker && !S.stopped && S.visitorPaused) {
        hostNotice("This site asks you to resume. Press Resume if you agree.");
      } else if (!S.worker || S.stopped) {
        hostNotice("This site invites you to start contributing. Review what it means below; nothing starts "
            + "until you agree.");
      }
      postToHost("request", {action: "start", outcome: S.worker && !S.stopped && !S.visitorPaused
          ? "already-running" : "needs-consent"});
    } else if (d.action === "pause") {
      var ran = S.worker && !S.stopped && !S.visitorPaused;
      if (ran) { setPaused(true); hostNotice("Paused at this site's request. Press Resume to continue."); }
      postToHost("request", {action: "pause", outcome: ran ? "paused" : "not-running"});
    }
  }

  // ---------- after consent: bundle, placement config ----------

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(s);
    });
  }

  function getJson(path, token) {
    var headers = {"Accept": "application/json"};
    if (token) { headers["Authorization"] = "Bearer " + token; }
    return fetch(path, {credentials: "omit", headers: headers}).then(readJson);
  }

  function postJson(path, body, token) {
    var headers = {"Content-Type": "application/json", "Accept": "application/json"};
    if (token) { headers["Authorization"] = "Bearer " + token; }
    return fetch(path, {method: "POST", credentials: "omit", headers: headers, body: JSON.stringify(body || {})})
      .then(readJson);
  }

  /** Resolves with the JSON body of a 2xx response; rejects with the problem+json detail otherwise. */
  function readJson(r) {
    return r.text().then(function (text) {
      var body = null;
      try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
      if (!r.ok) {
        var msg = body && (body.detail || body.title) ? (body.detail || body.title) : "HTTP " + r.status;
        var err = new Error(msg);
        err.status = r.status;
        throw err;
      }
      return body;
    });
  }

  function parentOrigin() {
    var ao = window.location.ancestorOrigins;
    return ao && ao.length > 0 ? ao[0] : hostOrigin;
  }

  function loadConfig() {
    if (!placementId) {
      return Promise.reject(new Error("This widget was embedded without a placement id, so it cannot start."));
    }
    var origin = parentOrigin();
    return fetch("/api/placements/" + encodeURIComponent(placementId) + "/widget-config"
        + (origin ? "?origin=" + encodeURIComponent(origin) : ""), {credentials: "omit"})
      .then(function (r) {
        return r.ok ? r.json() : {status: "unknown", message: "This placement does not exist, so nothing will run."};
      }, function () { throw new Error("Earn Idle cannot be reached right now, so nothing is running."); })
      .then(function (cfg) {
        if (cfg.status !== "active" || cfg.origin_allowed === false) {
          var e = new Error(cfg.message || "Earn Idle is not available here, so nothing will run.");
          e.refused = true;
          throw e;
        }
        S.config = cfg;
        var l = cfg.limits || {};
        S.caps = {
          cpu_share: typeof l.cpu_share === "number" ? l.cpu_share : DEFAULT_CAPS.cpu_share,
          gpu: typeof l.gpu === "boolean" ? l.gpu : DEFAULT_CAPS.gpu,
          memory_mb: typeof l.memory_mb === "number" ? l.memory_mb : DEFAULT_CAPS.memory_mb,
          bandwidth_kbps: typeof l.bandwidth_kbps === "number" ? l.bandwidth_kbps : DEFAULT_CAPS.bandwidth_kbps
        };
        return cfg;
      });
  }

  function refuse(message) {
    $("state").textContent = "Not started.";
    $("state").setAttribute("data-state", "refused");
    ["pause-toggle", "stop", "limits-edit", "to-payouts"].forEach(function (id) { $(id).disabled = true; });
    S.state = "refused";
    show("session");
    showError("message", message);
  }

  function accept() {
    S.consented = true;
    showError("message", "");
    hostNotice("");
    $("consent-accept").disabled = true;
    loadConfig()
      .then(function () { return S.wallet ? null : loadScript("/widget/wallet.bundle.js"); })
      .then(function () {
        S.wallet = window.EarnIdleWallet;
        return S.wallet.storedAddress().catch(function () { return null; });
      })
      .then(function (stored) {
        $("consent-accept").disabled = false;
        $("wallet-stored").hidden = !stored;
        $("wallet-use-stored").hidden = !stored;
        $("wallet-stored-address").textContent = stored || "";
        $("wallet-connect").hidden = !(window.ethereum && typeof window.ethereum.request === "function");
        walletPanel("wallet-choice");
        show("wallet");
      })
      .catch(function (e) {
        $("consent-accept").disabled = false;
        if (e.refused) { refuse(e.message); } else { showError("message", errorText(e)); }
      });
  }

  // ---------- 2. wallet genesis ----------

  function walletPanel(id) {
    ["wallet-choice", "wallet-phrase", "wallet-confirm", "wallet-import"].forEach(function (p) {
      $(p).hidden = p !== id;
    });
    showError("wallet-error", "");
  }

  function createWallet() {
    S.wallet.createWallet().then(function (w) {
      S.phrase = w.mnemonic.split(" ");
      S.pendingAddress = w.address;
      var ol = $("phrase-words");
      ol.textContent = "";
      S.phrase.forEach(function (word) {
        var li = document.createElement("li");
        li.textContent = word;
        ol.appendChild(li);
      });
      walletPanel("wallet-phrase");
      $("phrase-continue").focus();
    }, function (e) { showError("wallet-error", "Could not create a wallet: " + errorText(e)); });
  }

  function showConfirm() {
    S.confirmIdx = S.wallet.pickConfirmationIndexes(3, S.phrase.length);
    $("phrase-words").textContent = ""; // the words leave the screen; they are asked for, not shown
    var box = $("confirm-fields");
    box.textContent = "";
    S.confirmIdx.forEach(function (idx, n) {
      var div = document.createElement("div");
      var label = document.createElement("label");
      var input = document.createElement("input");
      input.id = "confirm-word-" + n;
      input.type = "text";
      input.autocomplete = "off";
      input.setAttribute("autocapitalize", "off");
      input.spellcheck = false;
      input.setAttribute("data-position", String(idx + 1));
      label.setAttribute("for", input.id);
      label.textContent = "Word #" + (idx + 1);
      div.appendChild(label);
      div.appendChild(input);
      box.appendChild(div);
    });
    walletPanel("wallet-confirm");
    $("confirm-word-0").focus();
  }

  function confirmWords(event) {
    event.preventDefault();
    var wrong = [];
    S.confirmIdx.forEach(function (idx, n) {
      var input = $("confirm-word-" + n);
      var ok = input.value.trim().toLowerCase() === S.phrase[idx];
      input.setAttribute("aria-invalid", ok ? "false" : "true");
      if (!ok) { wrong.push("#" + (idx + 1)); }
    });
    if (wrong.length) {
      showError("wallet-error", "Word " + wrong.join(", ") + (wrong.length > 1 ? " do" : " does")
          + " not match your phrase. Check what you wrote down, or show the words again.");
      return;
    }
    S.phrase = null;
    S.wallet.deviceSigner().then(function (signer) { useSigner(signer, "device"); },
      function (e) { showError("wallet-error", errorText(e)); });
  }

  function importPhrase(event) {
    event.preventDefault();
    var phrase = $("import-phrase").value;
    if (!S.wallet.validateMnemonic(phrase)) {
      $("import-phrase").setAttribute("aria-invalid", "true");
      showError("wallet-error", "That is not a valid 12-word recovery phrase: check the words and their order.");
      return;
    }
    $("import-phrase").setAttribute("aria-invalid", "false");
    S.wallet.importWallet(phrase).then(function () {
      $("import-phrase").value = "";
      return S.wallet.deviceSigner();
    }).then(function (signer) { useSigner(signer, "device"); },
      function (e) { showError("wallet-error", "Could not import: " + errorText(e)); });
  }

  function connectBrowserWallet() {
    S.wallet.providerSigner(window.ethereum).then(function (signer) { useSigner(signer, "browser"); },
      function (e) { showError("wallet-error", "Your browser wallet did not connect: " + errorText(e)); });
  }

  function useStored() {
    S.wallet.deviceSigner().then(function (signer) { useSigner(signer, "device"); },
      function (e) { showError("wallet-error", errorText(e)); });
  }

  function useSigner(signer, kind) {
    if (S.signer && S.signer.address !== signer.address) { S.walletToken = null; S.verifiedAddress = null; }
    S.signer = signer;
    S.walletKind = kind;
    $("verify-address").textContent = signer.address;
    if (S.afterVerify === "relink") { prepareVerify(); show("verify"); return; }
    openLimits(false);
  }

  function skipWallet() {
    S.signer = null;
    openLimits(false);
  }

  // ---------- 3. hardware consent ----------

  function storedLimits() {
    try { return JSON.parse(localStorage.getItem(LIMITS_KEY) || "null"); } catch (e) { return null; }
  }

  function clamp(v, lo, hi) { return Math.min(hi, Math.max(lo, v)); }

  function openLimits(editing) {
    var saved = S.limits || storedLimits() || {};
    var capPct = Math.round(S.caps.cpu_share * 100);
    var cpu = $("limit-cpu");
    cpu.max = String(Math.max(5, capPct));
    cpu.value = String(clamp(Math.round((saved.cpu_share || 0.5) * 100), 5, Math.max(5, capPct)));
    $("cap-cpu").textContent = String(capPct);
    $("limit-cpu-value").textContent = cpu.value;
    $("limit-gpu").disabled = !S.caps.gpu;
    $("limit-gpu").checked = S.caps.gpu && saved.gpu === true;
    $("limit-memory").max = String(S.caps.memory_mb);
    $("limit-memory").value = String(clamp(saved.memory_mb || 512, 64, S.caps.memory_mb));
    var capKBs = Math.floor(S.caps.bandwidth_kbps / 8);
    $("limit-bandwidth").max = String(capKBs);
    $("limit-bandwidth").value = String(clamp(saved.bandwidth_kbps ? Math.round(saved.bandwidth_kbps / 8) : 256,
        8, Math.max(8, capKBs)));
    $("limit-session-mb").value = String(saved.bandwidth_mb_per_session || 200);
    $("limit-visible").checked = saved.only_when_visible !== false;
    $("limit-battery").checked = saved.pause_on_battery !== false;
    $("limits-start").textContent = editing ? "Apply" : "Agree and continue";
    $("limits-cancel").hidden = !editing;
    S.editingLimits = editing;
    showError("limits-error", "");
    show("limits");
  }

  function readLimits() {
    function intField(id, lo, hi, what) {
      var el = $(id);
      var v = Number(el.value);
      var ok = el.value.trim() !== "" && Number.isInteger(v) && v >= lo && v <= hi;
      el.setAttribute("aria-invalid", ok ? "false" : "true");
      if (!ok) { throw new Error(what + " must be a whole number from " + lo + " to " + hi + "."); }
      return v;
    }
    var capPct = Math.max(5, Math.round(S.caps.cpu_share * 100));
    var cpuPct = intField("limit-cpu", 5, capPct, "CPU share");
    var memory = intField("limit-memory", 64, S.caps.memory_mb, "Memory (MB)");
    var kBs = intField("limit-bandwidth", 8, Math.max(8, Math.floor(S.caps.bandwidth_kbps / 8)), "Bandwidth (KB/s)");
    var sessionMb = intField("limit-session-mb", 1, 100000, "Data per session (MB)");
    return {
      cpu_share: Math.min(cpuPct / 100, S.caps.cpu_share),
      gpu: S.caps.gpu && $("limit-gpu").checked,
      memory_mb: memory,
      bandwidth_kbps: kBs * 8,
      bandwidth_mb_per_session: sessionMb,
      only_when_visible: $("limit-visible").checked,
      pause_on_battery: $("limit-battery").checked
    };
  }

  function submitLimits(event) {
    event.preventDefault();
    var limits;
    try { limits = readLimits(); } catch (e) { showError("limits-error", e.message); return; }
    S.limits = limits;
    try { localStorage.setItem(LIMITS_KEY, JSON.stringify(limits)); } catch (e) { /* private mode: this visit only */ }
    if (S.editingLimits) {
      if (S.worker) { S.worker.postMessage({type: "limits", limits: limits}); }
      show("session");
      return;
    }
    if (S.signer && !S.walletToken) {
      S.afterVerify = "session";
      prepareVerify();
      show("verify");
    } else {
      startSession();
    }
  }

  // ---------- 4. verify wallet (SIWE) ----------

  function prepareVerify() {
    $("verify-message").hidden = true;
    $("verify-sign").disabled = false;
    showError("verify-error", "");
  }

  function verifyWallet() {
    var signer = S.signer;
    if (!signer) { return; }
    $("verify-sign").disabled = true;
    showError("verify-error", "");
    postJson("/api/wallets/siwe/nonce", {}).then(function (n) {
      var message = S.wallet.siweMessage({
        domain: window.location.host, address: signer.address, statement: n.statement, uri: window.location.origin,
        chainId: n.chain_id, nonce: n.nonce, issuedAt: n.issued_at, expirationTime: n.expires_at
      });
      $("verify-message").textContent = message;
      $("verify-message").hidden = false;
      return Promise.resolve(signer.personalSign(message)).then(function (signature) {
        return postJson("/api/wallets/siwe/verify", {message: message, signature: signature});
      });
    }).then(function (v) {
      S.walletToken = v.wallet_token;
      S.verifiedAddress = v.address;
      $("verify-sign").disabled = false;
      if (S.afterVerify === "relink") {
        // The running session was registered without a wallet: the node links it (POST /api/wallets/sessions),
        // so what it earned so far moves to the wallet too, and it keeps running.
        S.afterVerify = "session";
        if (S.worker) {
          S.worker.postMessage({type: "link", wallet_token: S.walletToken});
          $("session-wallet").textContent = S.signer.address;
          show("session");
        } else {
          startSession();
        }
        openPayouts();
      } else {
        startSession();
      }
    }).catch(function (e) {
      $("verify-sign").disabled = false;
      showError("verify-error", "Verification failed: " + errorText(e));
    });
  }

  // ---------- 5. active session ----------

  function wasmSimdSupported() {
    try {
      // (module (func (result v128) i32.const 0 i8x16.splat i8x16.popcnt)) — validates only with SIMD.
      return WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
        10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]));
    } catch (e) {
      return false;
    }
  }

  function detectCapabilities() {
    return {
      webgpu: typeof navigator.gpu !== "undefined",
      wasm_simd: wasmSimdSupported(),
      threads: self.crossOriginIsolated === true && typeof SharedArrayBuffer !== "undefined",
      cores: navigator.hardwareConcurrency || 1,
      device_memory_gb: navigator.deviceMemory || 0
    };
  }

  var STATE_TEXT = {
    registering: "Connecting to the network…",
    idle: "Waiting for a job…",
    downloading: "Downloading the model…",
    running: "Running a job…",
    submitting: "Submitting the result…",
    paused: "Paused. Nothing is running.",
    stopped: "Stopped. Nothing is running.",
    error: "Something went wrong; retrying."
  };
  var PAUSE_REASON = {
    visitor: "Paused. Nothing is running.",
    hidden: "Paused while this tab is hidden (your setting).",
    battery: "Paused while on battery (your setting)."
  };

  function startSession() {
    show("session");
    showError("message", "");
    $("session-wallet").textContent = S.verifiedAddress ? S.signer.address : "not linked";
    var caps = detectCapabilities();
    $("engine-note").textContent = (caps.threads ? "Multi-threaded WebAssembly" : "Single-threaded WebAssembly"
        + " (this page is not cross-origin isolated)") + "; WebGPU " + (caps.webgpu
        ? (S.limits.gpu ? "available and allowed." : "available but switched off by you.") : "not available here.");
    startWorker(caps);
  }

  function startWorker(caps) {
    S.stopped = false;
    S.visitorPaused = false;
    S.lastStatus = {};
    S.sessionStartedAt = Date.now();
    $("pause-toggle").disabled = false;
    $("pause-toggle").textContent = "Pause";
    $("pause-toggle").setAttribute("aria-pressed", "false");
    $("stop").disabled = false;
    $("stop").textContent = "Stop";
    setState("registering");
    var w = new Worker("/node/node-worker.js");
    S.worker = w;
    w.onmessage = function (event) { if (S.worker === w) { onStatus(event.data); } };
    w.onerror = function (event) {
      showError("message", "The compute worker failed to start: " + (event.message || "unknown error"));
    };
    w.postMessage({
      type: "start",
      apiBase: window.location.origin,
      placementId: placementId,
      capabilities: caps || detectCapabilities(),
      limits: S.limits,
      walletToken: S.walletToken
    });
    sendVisibility();
    watchBattery();
  }

  function setState(state, text) {
    S.state = state;
    $("state").textContent = text || STATE_TEXT[state] || state;
    $("state").setAttribute("data-state", state);
    postToHost("status", statusDetail());
  }

  function onStatus(st) {
    if (!st || st.type !== "status") { return; }
    S.lastStatus = st;
    var text = st.state === "paused" && st.paused_reason ? PAUSE_REASON[st.paused_reason] : null;
    if (st.state === "error") { text = STATE_TEXT.error; }
    setState(st.state, text);
    if (typeof st.jobs_completed === "number") {
      $("jobs-completed").textContent = String(st.jobs_completed);
      if (st.jobs_completed !== S.earnings.jobs && S.walletToken) { refreshWallet(); }
      S.earnings.jobs = st.jobs_completed;
    }
    if (!S.walletToken) {
      if (typeof st.balance_micro_usdc === "number") { S.earnings.available = st.balance_micro_usdc; }
      if (typeof st.pending_micro_usdc === "number") { S.earnings.pending = st.pending_micro_usdc; }
      showEarnings();
    }
    if (st.wallet_linked && S.walletToken && !S.linkedSeen) { S.linkedSeen = true; showError("message", ""); refreshWallet(); }
    if (st.link_error) { showError("message", st.link_error); }
    if (typeof st.last_payout_micro_usdc === "number" && st.last_payout_micro_usdc > 0) {
      $("last-payout").textContent = formatMicroUsdc(st.last_payout_micro_usdc) + " USDC";
    }
    var running = st.state === "running" || st.state === "downloading" || st.state === "submitting";
    $("job-id").textContent = running && st.job_id ? st.job_id : "–";
    var p = st.progress;
    var jp = $("job-progress");
    if (running && p && typeof p.tokens_done === "number" && p.max_tokens > 0) {
      jp.max = p.max_tokens;
      jp.value = p.tokens_done;
      jp.setAttribute("aria-valuetext", p.tokens_done + " of " + p.max_tokens + " tokens");
      jp.hidden = false;
    } else {
      jp.hidden = true;
    }
    var d = st.download;
    if (d && typeof d.loaded_bytes === "number") {
      var total = d.total_bytes > 0 ? d.total_bytes : 0;
      $("download-text").textContent = formatBytes(d.loaded_bytes) + (total ? " of " + formatBytes(total) : "");
      $("download-progress").hidden = !total || d.loaded_bytes >= total;
      if (total) { $("download-progress").max = total; $("download-progress").value = d.loaded_bytes; }
    }
    if (st.engine) { $("engine").textContent = st.engine; }
    if (typeof st.tokens_per_s === "number" && st.tokens_per_s > 0) {
      $("speed").textContent = st.tokens_per_s.toFixed(1) + " tokens/s";
    }
    if (typeof st.busy_fraction === "number") {
      $("busy").textContent = Math.round(st.busy_fraction * 100) + " % of one core";
    }
    if (st.session_id) { $("session-id").textContent = st.session_id; }
    showError("message", st.state === "error" ? (st.message || STATE_TEXT.error) : "");
    if (st.state === "stopped") { onStopped(); }
  }

  function showEarnings() {
    setMicro("balance", S.earnings.available);
    setMicro("pending", S.earnings.pending);
    postToHost("earnings", {available_micro_usdc: S.earnings.available, pending_micro_usdc: S.earnings.pending,
      jobs_completed: S.earnings.jobs});
  }

  function setPaused(paused) {
    if (!S.worker || S.stopped) { return; }
    S.visitorPaused = paused;
    S.worker.postMessage({type: paused ? "pause" : "resume"});
    $("pause-toggle").textContent = paused ? "Resume" : "Pause";
    $("pause-toggle").setAttribute("aria-pressed", paused ? "true" : "false");
    if (!paused) { hostNotice(""); }
    postToHost("status", statusDetail());
  }

  function stopWorker() {
    var w = S.worker;
    if (!w) { return; }
    w.postMessage({type: "stop"});
    S.worker = null;
    // The worker cancels or finishes its current step within a second; then it is ended for good.
    setTimeout(function () { w.terminate(); }, 1000);
  }

  function stopOrRestart() {
    if (S.stopped || !S.worker) {
      startSession();
      return;
    }
    stopWorker();
    onStopped();
  }

  function onStopped() {
    S.stopped = true;
    $("pause-toggle").disabled = true;
    $("stop").textContent = "Start again";
    setState("stopped");
  }

  function tick() {
    if (S.worker && !S.stopped && S.sessionStartedAt) {
      $("session-time").textContent = formatDuration(Date.now() - S.sessionStartedAt);
    }
  }

  function sendVisibility() {
    if (S.worker) { S.worker.postMessage({type: "visibility", visible: document.visibilityState === "visible"}); }
  }

  var batteryWatched = false;
  function watchBattery() {
    if (batteryWatched || typeof navigator.getBattery !== "function") { return; }
    batteryWatched = true;
    navigator.getBattery().then(function (b) {
      function send() { if (S.worker) { S.worker.postMessage({type: "power", on_battery: !b.charging}); } }
      b.addEventListener("chargingchange", send);
      S.sendPower = send;
      send();
    }).catch(function () { /* not allowed in this frame: treated as mains power */ });
  }

  // ---------- 6. withdraw / payouts ----------

  function openPayouts() {
    show("payouts");
    var linked = !!S.walletToken;
    $("payouts-no-wallet").hidden = linked;
    $("payouts-body").hidden = !linked;
    if (linked) {
      $("payout-wallet").textContent = S.signer.address;
      if (!$("withdraw-destination").value) { $("withdraw-destination").value = S.signer.address; }
      refreshWallet();
      refreshHistory();
    }
  }

  function addWalletLater() {
    S.afterVerify = "relink";
    walletPanel("wallet-choice");
    show("wallet");
  }

  function refreshWallet() {
    if (!S.walletToken) { return Promise.resolve(); }
    var cfg = S.payoutConfig ? Promise.resolve(S.payoutConfig) : getJson("/api/payouts/config")
      .then(function (c) { S.payoutConfig = c; return c; });
    return Promise.all([getJson("/api/wallets/me", S.walletToken), cfg]).then(function (r) {
      var me = r[0];
      S.me = me;
      S.earnings.available = me.balance_micro_usdc;
      S.earnings.pending = me.pending_micro_usdc;
      showEarnings();
      setMicro("wallet-balance", me.balance_micro_usdc);
      setMicro("wallet-pending", me.pending_micro_usdc);
      $("wallet-in-flight").textContent = formatMicroUsdc(me.in_flight_micro_usdc);
      $("withdraw-min").textContent = "Minimum " + formatMicroUsdc(me.min_withdrawal_micro_usdc) + " USDC.";
    }).catch(function (e) {
      if (e.status === 401) { S.walletToken = null; }
      showError("withdraw-error", "Could not read your balance: " + errorText(e));
    });
  }

  function refreshHistory() {
    if (!S.walletToken) { return Promise.resolve(); }
    return getJson("/api/payouts", S.walletToken).then(function (h) {
      var tbody = $("payout-history").querySelector("tbody");
      tbody.textContent = "";
      (h.payouts || []).forEach(function (p) {
        var tr = document.createElement("tr");
        tr.setAttribute("data-payout-id", p.id);
        tr.setAttribute("data-status", p.status);
        var amount = document.createElement("td");
        amount.textContent = formatMicroUsdc(p.amount_micro_usdc) + " USDC";
        var status = document.createElement("td");
        status.textContent = p.status + (p.failure_reason ? " (" + p.failure_reason + ")" : "");
        var tx = document.createElement("td");
        tx.className = "mono";
        tx.textContent = p.tx_hash || "–";
        if (p.tx_hash) { tx.setAttribute("data-tx-hash", p.tx_hash); }
        tr.appendChild(amount);
        tr.appendChild(status);
        tr.appendChild(tx);
        tbody.appendChild(tr);
      });
      var latest = h.payouts && h.payouts[0];
      if (latest && S.awaitingPayout === latest.id && (latest.status === "confirmed" || latest.status === "failed")) {
        S.awaitingPayout = null;
        $("withdraw-status").textContent = latest.status === "confirmed"
            ? "Paid: " + formatMicroUsdc(latest.amount_micro_usdc) + " USDC reached your wallet."
            : "The withdrawal failed (" + (latest.failure_reason || "unknown reason") + "); the funds are back.";
      }
      $("payout-history").hidden = !(h.payouts && h.payouts.length);
      $("payouts-empty").hidden = !!(h.payouts && h.payouts.length);
    }).catch(function (e) { showError("withdraw-error", "Could not read your history: " + errorText(e)); });
  }

  function withdrawAll() {
    if (S.me) { $("withdraw-amount").value = formatMicroUsdc(S.me.balance_micro_usdc); }
  }

  function withdraw(event) {
    event.preventDefault();
    showError("withdraw-error", "");
    $("withdraw-status").textContent = "";
    var amount = parseUsdc($("withdraw-amount").value);
    var destination = $("withdraw-destination").value.trim();
    var me = S.me, cfg = S.payoutConfig;
    $("withdraw-amount").setAttribute("aria-invalid", "false");
    $("withdraw-destination").setAttribute("aria-invalid", "false");
    if (!me || !cfg) { showError("withdraw-error", "Your balance is still loading; try again in a moment."); return; }
    if (amount === null || amount <= 0) {
      $("withdraw-amount").setAttribute("aria-invalid", "true");
      showError("withdraw-error", "Enter an amount in USDC, for example 1.25 (at most 6 decimals).");
      return;
    }
    if (amount < me.min_withdrawal_micro_usdc) {
      $("withdraw-amount").setAttribute("aria-invalid", "true");
      showError("withdraw-error", "The minimum withdrawal is " + formatMicroUsdc(me.min_withdrawal_micro_usdc)
          + " USDC.");
      return;
    }
    if (amount > me.balance_micro_usdc) {
      $("withdraw-amount").setAttribute("aria-invalid", "true");
      showError("withdraw-error", "You have " + formatMicroUsdc(me.balance_micro_usdc) + " USDC available.");
      return;
    }
    if (!/^0x[0-9a-fA-F]{40}$/.test(destination)) {
      $("withdraw-destination").setAttribute("aria-invalid", "true");
      showError("withdraw-error", "The destination must be an address: 0x followed by 40 hexadecimal digits.");
      return;
    }
    var nonce = me.next_withdraw_nonce;
    var deadline = Math.floor(Date.now() / 1000) + Math.min(3600, cfg.max_deadline_seconds);
    var typed = {
      types: cfg.eip712.types,
      primaryType: cfg.eip712.primary_type,
      domain: cfg.eip712.domain,
      message: {account: "wallet:" + S.verifiedAddress, destination: destination, amount: amount, nonce: nonce,
        deadline: deadline}
    };
    $("withdraw-submit").disabled = true;
    $("withdraw-status").textContent = "Waiting for your signature…";
    Promise.resolve(S.signer.signTypedData(typed)).then(function (signature) {
      $("withdraw-status").textContent = "Sending…";
      return postJson("/api/payouts", {amount_micro_usdc: amount, destination: destination, nonce: nonce,
        deadline: deadline, signature: signature}, S.walletToken);
    }).then(function (p) {
      $("withdraw-submit").disabled = false;
      $("withdraw-amount").value = "";
      S.awaitingPayout = p.id;
      $("withdraw-status").textContent = "Withdrawal of " + formatMicroUsdc(p.amount_micro_usdc)
          + " USDC requested; it is paid on chain shortly.";
      refreshWallet();
      refreshHistory();
    }).catch(function (e) {
      $("withdraw-submit").disabled = false;
      $("withdraw-status").textContent = "";
      showError("withdraw-error", "Withdrawal refused: " + errorText(e));
      refreshWallet();
    });
  }

  function pollPayouts() {
    if (S.step === "payouts" && S.walletToken) {
      refreshWallet();
      refreshHistory();
    } else if (S.step === "session" && S.walletToken && S.worker) {
      refreshWallet();
    }
  }

  // ---------- wiring ----------

  function on(id, type, fn) { $(id).addEventListener(type, fn); }

  document.addEventListener("DOMContentLoaded", function () {
    document.body.setAttribute("data-step", "welcome");
    on("consent-accept", "click", accept);
    on("consent-decline", "click", function () { show("declined"); postToHost("status", {step: "declined"}); });
    on("reconsider", "click", function () { show("welcome"); });
    on("wallet-create", "click", createWallet);
    on("wallet-import-show", "click", function () { walletPanel("wallet-import"); $("import-phrase").focus(); });
    on("import-cancel", "click", function () { walletPanel("wallet-choice"); });
    on("wallet-import", "submit", importPhrase);
    on("wallet-connect", "click", connectBrowserWallet);
    on("wallet-use-stored", "click", useStored);
    on("wallet-skip", "click", function () {
      if (S.afterVerify === "relink") { S.afterVerify = "session"; show("session"); return; }
      skipWallet();
    });
    on("phrase-continue", "click", showConfirm);
    on("confirm-back", "click", function () {
      // Show the same words again (still only in memory), then ask again.
      var ol = $("phrase-words");
      ol.textContent = "";
      S.phrase.forEach(function (word) {
        var li = document.createElement("li");
        li.textContent = word;
        ol.appendChild(li);
      });
      walletPanel("wallet-phrase");
      $("phrase-continue").focus();
    });
    on("wallet-confirm", "submit", confirmWords);
    on("limit-cpu", "input", function () { $("limit-cpu-value").textContent = $("limit-cpu").value; });
    on("limits-form", "submit", submitLimits);
    on("limits-cancel", "click", function () { show("session"); });
    on("verify-sign", "click", verifyWallet);
    on("verify-back", "click", function () {
      if (S.afterVerify === "relink") { show("session"); } else { openLimits(false); }
    });
    on("pause-toggle", "click", function () { setPaused(!S.visitorPaused); });
    on("stop", "click", stopOrRestart);
    on("limits-edit", "click", function () { openLimits(true); });
    on("to-payouts", "click", openPayouts);
    on("payouts-back", "click", function () { show("session"); });
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
})();
