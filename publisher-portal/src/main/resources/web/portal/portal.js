/*
 * Earn Idle publisher portal: account, domains (DNS TXT verification), placements with embed code, passkeys and a
 * dashboard that polls the API. Every value from the server is inserted as text (textContent / attributes), never
 * as HTML: names, domains and messages are user input.
 */
(function () {
  "use strict";

  var csrf = null;
  var pollTimer = null;
  var lastDashboard = null;  // the latest GET /api/publisher/dashboard
  var payoutCfg = null;      // GET /api/payouts/config (chain, token, minimum, EIP-712 domain and types)
  var awaitingPayout = null; // id of the withdrawal this page requested, until it is confirmed or failed
  var rateCard = {min: 0, max: 5000};

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  /** Integer micro-USDC to a decimal string, without floating point. */
  function usdc(micro) {
    var negative = micro < 0;
    var digits = String(Math.abs(Math.trunc(micro || 0)));
    while (digits.length < 7) { digits = "0" + digits; }
    return (negative ? "-" : "") + digits.slice(0, digits.length - 6) + "." + digits.slice(digits.length - 6);
  }

  /**
   * A USDC amount typed by the publisher ("1", "1.5", "0,25") to integer micro-USDC by string arithmetic (no
   * floating point), or null when it is not digits with at most 6 decimals (or too large to be exact).
   */
  function parseUsdc(text) {
    var m = /^\s*(\d{1,10})(?:[.,](\d{0,6}))?\s*$/.exec(text || "");
    if (!m) { return null; }
    var frac = m[2] || "";
    while (frac.length < 6) { frac += "0"; }
    var n = Number((m[1] + frac).replace(/^0+(?=\d)/, "")); // an integer string: exact while it is a safe integer
    return Number.isSafeInteger(n) ? n : null;
  }

  function showError(id, message) {
    var e = $(id);
    e.textContent = message || "";
    e.hidden = !message;
  }

  function say(message) { $("global-status").textContent = message || ""; }

  /** Calls the API; resolves with the parsed body (null for 204), rejects with an Error carrying the problem. */
  function api(method, path, body) {
    var headers = {"Accept": "application/json"};
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    if (csrf && method !== "GET") { headers["X-CSRF-Token"] = csrf; }
    return fetch(path, {method: method, headers: headers, credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 204) { return null; }
        return r.text().then(function (text) {
          var json = null;
          try { json = text ? JSON.parse(text) : null; } catch (e) { json = null; }
          if (!r.ok) {
            var err = new Error(json && json.detail ? json.detail : "the server answered " + r.status);
            err.status = r.status;
            err.problem = json;
            throw err;
          }
          return json;
        });
      });
  }

  // ---- base64url for WebAuthn ----
  function b64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var s = "";
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function fromB64url(text) {
    var s = text.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  // ---- signed out ----
  function renderNetwork(placements) {
    var status = $("placements-status");
    var table = $("placements");
    var body = table.querySelector("tbody");
    body.textContent = "";
    placements.forEach(function (p) {
      var row = el("tr", {"data-placement-id": p.id});
      row.appendChild(el("td", null, p.id));
      row.appendChild(el("td", null, p.publisher_name || p.publisher_id));
      row.appendChild(el("td", null, (p.publisher_share_bps / 100).toFixed(2) + " %"));
      row.appendChild(el("td", null, p.status));
      var td = el("td");
      td.appendChild(el("code", null, '<script src="' + window.location.origin + '/embed.js" data-placement="' +
          p.id + '" async></' + 'script>'));
      row.appendChild(td);
      body.appendChild(row);
    });
    status.textContent = placements.length === 0 ? "No placements yet." :
        placements.length + (placements.length === 1 ? " placement" : " placements");
    table.hidden = placements.length === 0;
  }

  function showSignedOut() {
    stopPolling();
    csrf = null;
    $("signed-in").hidden = true;
    $("account-bar").hidden = true;
    $("signed-out").hidden = false;
    api("GET", "/api/placements").then(function (b) { renderNetwork(b.placements || []); })
      .catch(function (e) { $("placements-status").textContent = "Could not load placements: " + e.message; });
  }

  function onSignedIn(me) {
    csrf = me.csrf_token;
    $("signed-out").hidden = true;
    $("signed-in").hidden = false;
    $("account-bar").hidden = false;
    $("account-email").textContent = me.email;
    $("passkey-count").textContent = String(me.passkeys || 0);
    $("wallet-current").textContent = me.payout_address || "none yet";
    awaitingPayout = null;
    payoutConfig().catch(function () { return null; });
    loadDomains();
    loadPlacements();
    refreshDashboard();
    stopPolling();
    pollTimer = setInterval(refreshDashboard, 3000);
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function formCredentials(prefix) {
    return {email: $(prefix + "-email").value.trim(), password: $(prefix + "-password").value};
  }

  function signIn(event) {
    event.preventDefault();
    showError("signin-error", "");
    var c = formCredentials("signin");
    if (!c.email || !c.password) { showError("signin-error", "Enter your e-mail and password."); return; }
    api("POST", "/api/publisher/signin", c).then(function () { return api("GET", "/api/publisher/me"); })
      .then(function (me) { $("signin-password").value = ""; say("Signed in."); onSignedIn(me); })
      .catch(function (e) { showError("signin-error", e.message); });
  }

  function signUp(event) {
    event.preventDefault();
    showError("signup-error", "");
    var c = formCredentials("signup");
    var name = $("signup-name").value.trim();
    if (name) { c.name = name; }
    if (c.password.length < 12) { showError("signup-error", "The password needs at least 12 characters."); return; }
    api("POST", "/api/publisher/signup", c).then(function () { return api("GET", "/api/publisher/me"); })
      .then(function (me) { $("signup-password").value = ""; say("Account created. Welcome!"); onSignedIn(me); })
      .catch(function (e) { showError("signup-error", e.message); });
  }

  function signOut(everywhere) {
    api("POST", everywhere ? "/api/publisher/signout-everywhere" : "/api/publisher/signout")
      .then(function (r) {
        say(everywhere ? "Signed out on every device (" + (r ? r.sessions_ended : 0) + " sessions)." : "Signed out.");
        showSignedOut();
      })
      .catch(function (e) { say("Could not sign out: " + e.message); });
  }

  // ---- passkeys ----
  function registerPasskey() {
    var status = $("passkey-status");
    status.textContent = "Follow your browser's prompt…";
    var challengeId;
    api("POST", "/api/publisher/passkeys/options", {}).then(function (o) {
      challengeId = o.challenge_id;
      var pk = o.public_key;
      pk.challenge = fromB64url(pk.challenge);
      pk.user.id = fromB64url(pk.user.id);
      pk.excludeCredentials = (pk.excludeCredentials || []).map(function (c) {
        return {type: c.type, id: fromB64url(c.id)};
      });
      return navigator.credentials.create({publicKey: pk});
    }).then(function (cred) {
      return api("POST", "/api/publisher/passkeys", {
        challenge_id: challengeId,
        client_data_json: b64url(cred.response.clientDataJSON),
        attestation_object: b64url(cred.response.attestationObject),
        transports: cred.response.getTransports ? cred.response.getTransports() : []
      });
    }).then(function () { return api("GET", "/api/publisher/me"); })
      .then(function (me) {
        $("passkey-count").textContent = String(me.passkeys);
        status.textContent = "Passkey added. You can now sign in with it.";
      })
      .catch(function (e) { status.textContent = "The passkey was not added: " + e.message; });
  }

  function passkeySignIn() {
    showError("signin-error", "");
    var challengeId;
    api("POST", "/api/publisher/passkey-signin/options", {}).then(function (o) {
      challengeId = o.challenge_id;
      var pk = o.public_key;
      pk.challenge = fromB64url(pk.challenge);
      return navigator.credentials.get({publicKey: pk});
    }).then(function (cred) {
      return api("POST", "/api/publisher/passkey-signin", {
        challenge_id: challengeId,
        credential_id: b64url(cred.rawId),
        client_data_json: b64url(cred.response.clientDataJSON),
        authenticator_data: b64url(cred.response.authenticatorData),
        signature: b64url(cred.response.signature),
        user_handle: cred.response.userHandle ? b64url(cred.response.userHandle) : null
      });
    }).then(function () { return api("GET", "/api/publisher/me"); })
      .then(function (me) { say("Signed in with a passkey."); onSignedIn(me); })
      .catch(function (e) { showError("signin-error", "Passkey sign-in failed: " + e.message); });
  }

  // ---- domains ----
  function loadDomains() {
    return api("GET", "/api/publisher/domains").then(function (b) { renderDomains(b.domains || []); })
      .catch(function (e) { showError("domain-error", "Could not load domains: " + e.message); });
  }

  var STATUS_TEXT = {pending: "Waiting for the DNS record", verified: "Verified", failing: "Record missing at the last re-check",
    lost: "Claimed by another account"};

  function renderDomains(domains) {
    var list = $("domains");
    list.textContent = "";
    domains.forEach(function (d) {
      var li = el("li", {"class": "card domain", "data-domain": d.domain, "data-status": d.status});
      li.appendChild(el("h3", null, d.domain + (d.include_subdomains ? " (and subdomains)" : "")));
      li.appendChild(el("p", {"class": "badge " + d.status}, STATUS_TEXT[d.status] || d.status));
      if (d.status !== "verified") {
        li.appendChild(el("p", null, "Create this DNS record, then press Check now:"));
        var dl = el("dl", {"class": "record"});
        dl.appendChild(el("dt", null, "Name"));
        dl.appendChild(el("dd", null)).appendChild(el("code", {"class": "record-name"}, d.record.name));
        dl.appendChild(el("dt", null, "Type"));
        dl.appendChild(el("dd", null, "TXT"));
        dl.appendChild(el("dt", null, "Value"));
        dl.appendChild(el("dd", null)).appendChild(el("code", {"class": "record-value"}, d.record.value));
        li.appendChild(dl);
      }
      if (d.last_check_detail) {
        li.appendChild(el("p", {"class": "hint"}, "Last check: " + d.last_check_detail));
      }
      var err = el("p", {"class": "error", "role": "alert", "hidden": ""});
      var actions = el("div", {"class": "actions"});
      if (d.status !== "lost") {
        var check = el("button", {"type": "button", "class": "check-now"}, "Check now");
        check.setAttribute("aria-label", "Check now: " + d.domain);
        check.addEventListener("click", function () {
          err.hidden = true;
          check.disabled = true;
          api("POST", "/api/publisher/domains/" + encodeURIComponent(d.id) + "/check")
            .then(function () { say(d.domain + " is verified."); loadDomains(); refreshDashboard(); })
            .catch(function (e) { err.textContent = e.message; err.hidden = false; check.disabled = false; });
        });
        actions.appendChild(check);
      }
      var remove = el("button", {"type": "button", "class": "secondary"}, "Remove");
      remove.setAttribute("aria-label", "Remove " + d.domain);
      remove.addEventListener("click", function () {
        api("DELETE", "/api/publisher/domains/" + encodeURIComponent(d.id))
          .then(function () { say(d.domain + " removed."); loadDomains(); loadPlacements(); })
          .catch(function (e) { err.textContent = e.message; err.hidden = false; });
      });
      actions.appendChild(remove);
      li.appendChild(actions);
      li.appendChild(err);
      list.appendChild(li);
    });
  }

  function addDomain(event) {
    event.preventDefault();
    showError("domain-error", "");
    var domain = $("domain-input").value.trim();
    if (!domain) { showError("domain-error", "Enter a domain name like example.com."); return; }
    api("POST", "/api/publisher/domains", {domain: domain, include_subdomains: $("domain-subdomains").checked})
      .then(function (d) { $("domain-input").value = ""; say("Added " + d.domain + "."); loadDomains(); })
      .catch(function (e) { showError("domain-error", e.message); $("domain-input").focus(); });
  }

  // ---- placements ----
  function loadPlacements() {
    return api("GET", "/api/publisher/placements").then(function (b) {
      if (b.rate_card) {
        rateCard = {min: b.rate_card.publisher_share_min_bps, max: b.rate_card.publisher_share_max_bps};
        $("share-bounds").textContent = (rateCard.min / 100) + "–" + (rateCard.max / 100);
        $("pl-share").min = String(rateCard.min / 100);
        $("pl-share").max = String(rateCard.max / 100);
      }
      renderPlacements(b.placements || []);
    }).catch(function (e) { showError("placement-error", "Could not load placements: " + e.message); });
  }

  function copyText(text, status) {
    function done() { status.textContent = "Copied to the clipboard."; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text, status); });
    } else {
      fallbackCopy(text, status);
    }
  }

  function fallbackCopy(text, status) {
    var ta = el("textarea", {"aria-hidden": "true"});
    ta.value = text;
    ta.style.position = "fixed";
    ta.style.opacity = "0";
    document.body.appendChild(ta);
    ta.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(ta);
    status.textContent = ok ? "Copied to the clipboard." : "Select the code and copy it with Ctrl+C / ⌘C.";
  }

  function snippet(li, label, text, kind, placementId) {
    var wrap = el("div", {"class": "snippet"});
    var codeId = "code-" + kind + "-" + placementId;
    wrap.appendChild(el("p", {"id": codeId + "-label"}, label));
    var pre = el("pre", {"id": codeId, "class": "embed-" + kind, "aria-labelledby": codeId + "-label",
      "tabindex": "0"});
    pre.textContent = text;
    wrap.appendChild(pre);
    var status = el("span", {"class": "copy-status", "role": "status", "aria-live": "polite"});
    var button = el("button", {"type": "button", "class": "copy copy-" + kind}, "Copy");
    button.setAttribute("aria-label", "Copy " + label.toLowerCase());
    button.addEventListener("click", function () { copyText(text, status); });
    wrap.appendChild(button);
    wrap.appendChild(status);
    li.appendChild(wrap);
  }

  function renderPlacements(placements) {
    var list = $("my-placements");
    list.textContent = "";
    if (placements.length === 0) {
      list.appendChild(el("li", {"class": "hint"}, "No placements yet. Verify a domain, then create one above."));
    }
    placements.forEach(function (p) {
      var li = el("li", {"class": "card placement", "data-placement-id": p.id, "data-status": p.status});
      li.appendChild(el("h3", null, p.name + " (" + p.id + ")"));
      li.appendChild(el("p", {"class": "badge " + p.status}, p.status === "suspended"
          ? "Suspended: " + (p.suspended_reason || "its domain is not verified") : p.status === "paused" ? "Paused" : "Active"));
      var dl = el("dl", {"class": "facts"});
      [["Where", (p.domain || "–") + (p.path_prefix || "")], ["Page id", p.page_id || "–"],
        ["Your share", (p.publisher_share_bps / 100).toFixed(2) + " %"],
        ["Limits", "CPU " + Math.round(p.limits.cpu_share * 100) + " %, GPU " + (p.limits.gpu ? "on" : "off") +
          (p.limits.bandwidth_kbps ? ", " + p.limits.bandwidth_kbps + " kbit/s" : "") +
          (p.limits.memory_mb ? ", " + p.limits.memory_mb + " MB" : "")],
        ["Allowed origins", (p.allowed_origins || []).join(" ") || "none"]].forEach(function (f) {
        dl.appendChild(el("dt", null, f[0]));
        dl.appendChild(el("dd", null, f[1]));
      });
      li.appendChild(dl);
      snippet(li, "Script tag", p.embed.script, "script", p.id);
      snippet(li, "Iframe fallback", p.embed.iframe, "iframe", p.id);
      var err = el("p", {"class": "error", "role": "alert", "hidden": ""});
      var toggle = el("button", {"type": "button", "class": "secondary pause-toggle"}, p.paused ? "Resume" : "Pause");
      toggle.setAttribute("aria-label", (p.paused ? "Resume " : "Pause ") + p.id);
      toggle.addEventListener("click", function () {
        var body = {name: p.name, page_id: p.page_id, domain: p.domain, path_prefix: p.path_prefix,
          limits: p.limits, publisher_share_bps: p.publisher_share_bps, status: p.paused ? "active" : "paused"};
        api("PUT", "/api/publisher/placements/" + encodeURIComponent(p.id), body)
          .then(function () { loadPlacements(); })
          .catch(function (e) { err.textContent = e.message; err.hidden = false; });
      });
      li.appendChild(el("div", {"class": "actions"})).appendChild(toggle);
      li.appendChild(err);
      list.appendChild(li);
    });
  }

  function createPlacement(event) {
    event.preventDefault();
    showError("placement-error", "");
    var share = Number($("pl-share").value);
    var body = {
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
      .then(function (p) { say("Placement " + p.id + " created."); $("pl-id").value = ""; loadPlacements(); })
      .catch(function (e) { showError("placement-error", e.message); });
  }

  // ---- payout wallet (an existing address, proven by an EIP-191 signature) ----
  var walletChallenge = null;

  function walletMessage(event) {
    event.preventDefault();
    showError("wallet-error", "");
    api("POST", "/api/publisher/payout-wallet/challenge", {address: $("wallet-address").value.trim()})
      .then(function (c) {
        walletChallenge = c;
        $("wallet-message").textContent = c.message;
        $("wallet-sign").hidden = false;
        $("wallet-browser-sign").hidden = !window.ethereum;
      })
      .catch(function (e) { showError("wallet-error", e.message); });
  }

  function walletBrowserSign() {
    if (!window.ethereum || !walletChallenge) { return; }
    var address = $("wallet-address").value.trim();
    window.ethereum.request({method: "personal_sign", params: [walletChallenge.message, address]})
      .then(function (sig) { $("wallet-signature").value = sig; walletProve(); })
      .catch(function (e) { showError("wallet-error", "The wallet did not sign: " + (e.message || e)); });
  }

  function walletProve() {
    showError("wallet-error", "");
    if (!walletChallenge) { showError("wallet-error", "Ask for the message to sign first."); return; }
    api("POST", "/api/publisher/payout-wallet", {challenge_id: walletChallenge.challenge_id,
      message: walletChallenge.message, signature: $("wallet-signature").value.trim()})
      .then(function (r) {
        $("wallet-current").textContent = r.payout_address;
        $("wallet-status").textContent = "Payout address saved.";
        $("wallet-sign").hidden = true;
        walletChallenge = null;
      })
      .catch(function (e) { showError("wallet-error", e.message); });
  }

  // ---- payout wallet created in this browser (the widget's wallet bundle: BIP-39 phrase, key on the device) ----
  var newWallet = null; // {words, indexes} in memory only, until the phrase is confirmed

  function walletBundle() {
    if (window.EarnIdleWallet) { return Promise.resolve(window.EarnIdleWallet); }
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = "/widget/wallet.bundle.js";
      s.onload = function () { resolve(window.EarnIdleWallet); };
      s.onerror = function () { reject(new Error("could not load the wallet code")); };
      document.head.appendChild(s);
    });
  }

  function walletCreate() {
    showError("wallet-new-error", "");
    walletBundle().then(function (w) { return w.createWallet(); }).then(function (created) {
      newWallet = {words: created.mnemonic.split(" "), address: created.address};
      var ol = $("wallet-new-words");
      ol.textContent = "";
      newWallet.words.forEach(function (word) { ol.appendChild(el("li", null, word)); });
      $("wallet-new-phrase").hidden = false;
      $("wallet-new-confirm").hidden = true;
      $("wallet-new-continue").focus();
    }).catch(function (e) { showError("wallet-new-error", "Could not create a wallet: " + e.message); });
  }

  function walletNewContinue() {
    newWallet.indexes = window.EarnIdleWallet.pickConfirmationIndexes(3, newWallet.words.length);
    $("wallet-new-words").textContent = "";
    $("wallet-new-phrase").hidden = true;
    var box = $("wallet-new-fields");
    box.textContent = "";
    newWallet.indexes.forEach(function (idx, n) {
      box.appendChild(el("label", {"for": "wallet-new-word-" + n}, "Word #" + (idx + 1)));
      box.appendChild(el("input", {id: "wallet-new-word-" + n, type: "text", autocomplete: "off",
        autocapitalize: "off", spellcheck: "false", "data-position": String(idx + 1)}));
    });
    $("wallet-new-confirm").hidden = false;
    $("wallet-new-word-0").focus();
  }

  function walletNewConfirm(event) {
    event.preventDefault();
    showError("wallet-new-error", "");
    var wrong = newWallet.indexes.filter(function (idx, n) {
      return $("wallet-new-word-" + n).value.trim().toLowerCase() !== newWallet.words[idx];
    });
    if (wrong.length) {
      showError("wallet-new-error", "Word " + wrong.map(function (i) { return "#" + (i + 1); }).join(", ")
          + " does not match your phrase.");
      return;
    }
    var address = newWallet.address;
    newWallet = null;
    $("wallet-new-confirm").hidden = true;
    // Prove it like any wallet: the portal's challenge, signed with the key on this device (EIP-191).
    api("POST", "/api/publisher/payout-wallet/challenge", {address: address})
      .then(function (c) {
        return window.EarnIdleWallet.personalSign(c.message).then(function (signature) {
          return api("POST", "/api/publisher/payout-wallet", {challenge_id: c.challenge_id, message: c.message,
            signature: signature});
        });
      })
      .then(function (r) {
        $("wallet-current").textContent = r.payout_address;
        $("wallet-status").textContent = "New wallet created and saved as your payout address. Keep the 12 words safe.";
      })
      .catch(function (e) { showError("wallet-new-error", e.message); });
  }

  // ---- withdrawals: EIP-712 signed by the payout wallet, paid only to it ----
  var PAYOUT_STATUS = {requested: "requested", signed: "signed, about to be sent", sent: "sent, waiting for confirmations",
    confirmed: "confirmed (paid)", failed: "failed, funds returned"};

  function renderPayouts(payouts) {
    var body = $("payouts").querySelector("tbody");
    body.textContent = "";
    payouts.forEach(function (p) {
      var tr = el("tr", {"data-payout-id": p.id, "data-status": p.status});
      tr.appendChild(el("td", null, p.created_at.slice(0, 10)));
      tr.appendChild(el("td", null, (PAYOUT_STATUS[p.status] || p.status)
          + (p.failure_reason ? ": " + p.failure_reason : "")));
      tr.appendChild(el("td", null, usdc(p.amount_micro_usdc)));
      var tx = el("td");
      if (p.tx_hash) {
        tx.setAttribute("data-tx-hash", p.tx_hash);
        tx.appendChild(el("code", null, p.tx_hash));
      } else {
        tx.textContent = "–";
      }
      tr.appendChild(tx);
      body.appendChild(tr);
      if (p.id === awaitingPayout && (p.status === "confirmed" || p.status === "failed")) {
        awaitingPayout = null;
        $("withdraw-status").textContent = p.status === "confirmed"
            ? "Paid: " + usdc(p.amount_micro_usdc) + " USDC reached " + p.destination + "."
            : "The withdrawal failed (" + (p.failure_reason || "unknown reason") + "); the funds are back.";
      }
    });
    $("payouts").hidden = payouts.length === 0;
    $("payouts-empty").hidden = payouts.length > 0;
  }

  function payoutConfig() {
    if (payoutCfg) { return Promise.resolve(payoutCfg); }
    return api("GET", "/api/payouts/config").then(function (c) { payoutCfg = c; showWithdrawLimits(); return c; });
  }

  function showWithdrawLimits() {
    var parts = [];
    if (lastDashboard) { parts.push(usdc(lastDashboard.balance_micro_usdc) + " available"); }
    if (payoutCfg) { parts.push("minimum " + usdc(payoutCfg.min_withdrawal_micro_usdc)); }
    $("withdraw-limits").textContent = parts.length ? "(" + parts.join(", ") + ")" : "";
  }

  /** An error written for the publisher (shown as is); {amount: true} marks the amount field invalid. */
  function localError(message, amount) {
    var e = new Error(message);
    e.local = true;
    e.amount = !!amount;
    return e;
  }

  /**
   * The signer that holds the payout address: the wallet created in this browser (the wallet bundle's key on the
   * device), else an injected browser wallet (window.ethereum, eth_signTypedData_v4) sharing that address.
   */
  function payoutSigner(address) {
    var want = address.toLowerCase();
    return walletBundle().then(function (w) {
      return w.storedAddress().then(function (stored) { return {bundle: w, stored: stored}; });
    }, function () { return {bundle: null, stored: null}; }).then(function (device) {
      if (device.stored && device.stored.toLowerCase() === want) {
        return {name: "the wallet kept in this browser", signTypedData: device.bundle.signTypedData};
      }
      if (window.ethereum) {
        return window.ethereum.request({method: "eth_requestAccounts"}).then(function (accounts) {
          var match = (accounts || []).filter(function (a) { return String(a).toLowerCase() === want; })[0];
          if (!match) {
            throw localError("Your browser wallet did not share the payout address " + address
                + ". Switch to that account in the wallet and try again.");
          }
          return {name: "your browser wallet", signTypedData: function (typed) {
            return window.ethereum.request({method: "eth_signTypedData_v4", params: [match, JSON.stringify(typed)]});
          }};
        }, function (e) { throw localError("The browser wallet did not connect: " + (e.message || e)); });
      }
      throw localError("The payout wallet " + address + " is not in this browser. Withdraw from the browser where "
          + "you created it, or connect the browser wallet that holds it.");
    });
  }

  function withdrawAll() {
    if (lastDashboard) { $("withdraw-amount").value = usdc(lastDashboard.balance_micro_usdc); }
    $("withdraw-amount").focus();
  }

  function withdraw(event) {
    event.preventDefault();
    var input = $("withdraw-amount");
    var button = $("withdraw-submit");
    showError("withdraw-error", "");
    $("withdraw-status").textContent = "";
    input.setAttribute("aria-invalid", "false");
    var amount = parseUsdc(input.value);
    if (amount === null || amount <= 0) {
      input.setAttribute("aria-invalid", "true");
      showError("withdraw-error", "Enter an amount in USDC, for example 1.25 (digits, at most 6 decimals).");
      input.focus();
      return;
    }
    var req = {};
    button.disabled = true;
    $("withdraw-status").textContent = "Preparing…";
    Promise.all([api("GET", "/api/publisher/withdrawals"), payoutConfig()]).then(function (r) {
      var w = r[0], cfg = r[1];
      if (!w.payout_address) {
        throw localError("Prove a payout wallet above first: withdrawals are paid only to it.");
      }
      if (amount < w.min_withdrawal_micro_usdc) {
        throw localError("The minimum withdrawal is " + usdc(w.min_withdrawal_micro_usdc) + " USDC.", true);
      }
      if (amount > w.balance_micro_usdc) {
        throw localError("You have " + usdc(w.balance_micro_usdc) + " USDC available" + (w.pending_micro_usdc > 0
            ? " (" + usdc(w.pending_micro_usdc) + " more is pending until its verification window closes)" : "")
            + ".", true);
      }
      if (!cfg.token_address) { throw localError("Payouts are not configured on this server yet."); }
      req = {amount_micro_usdc: amount, destination: w.payout_address, nonce: w.next_withdraw_nonce,
        deadline: Math.floor(Date.now() / 1000) + Math.min(3600, cfg.max_deadline_seconds)};
      req.typed = {types: cfg.eip712.types, primaryType: cfg.eip712.primary_type, domain: cfg.eip712.domain,
        message: {account: w.account, destination: req.destination, amount: amount, nonce: req.nonce,
          deadline: req.deadline}};
      return payoutSigner(w.payout_address);
    }).then(function (signer) {
      $("withdraw-status").textContent = "Waiting for the signature of " + signer.name + "…";
      return Promise.resolve(signer.signTypedData(req.typed)).catch(function (e) {
        throw localError("The wallet did not sign: " + (e.message || e));
      });
    }).then(function (signature) {
      $("withdraw-status").textContent = "Sending…";
      return api("POST", "/api/publisher/withdrawals", {amount_micro_usdc: req.amount_micro_usdc,
        destination: req.destination, nonce: req.nonce, deadline: req.deadline, signature: signature});
    }).then(function (p) {
      button.disabled = false;
      input.value = "";
      awaitingPayout = p.id;
      $("withdraw-status").textContent = "Withdrawal of " + usdc(p.amount_micro_usdc)
          + " USDC requested; it is paid on chain shortly.";
      refreshDashboard();
    }).catch(function (e) {
      button.disabled = false;
      $("withdraw-status").textContent = "";
      if (e.amount) { input.setAttribute("aria-invalid", "true"); }
      showError("withdraw-error", e.local ? e.message : "Withdrawal refused: " + e.message);
    });
  }

  // ---- dashboard ----
  function renderChart(days) {
    var chart = $("chart");
    chart.textContent = "";
    var ns = "http://www.w3.org/2000/svg";
    var w = 560, h = 160, pad = 24;
    var max = 0;
    days.forEach(function (d) { if (d.micro_usdc > max) { max = d.micro_usdc; } });
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 " + w + " " + (h + pad));
    svg.setAttribute("width", "100%");
    svg.setAttribute("aria-hidden", "true");
    var bw = w / days.length;
    days.forEach(function (d, i) {
      var bh = max === 0 ? 0 : Math.max(2, Math.round((d.micro_usdc / max) * (h - 10)));
      var rect = document.createElementNS(ns, "rect");
      rect.setAttribute("x", String(i * bw + 3));
      rect.setAttribute("y", String(h - bh));
      rect.setAttribute("width", String(bw - 6));
      rect.setAttribute("height", String(bh));
      rect.setAttribute("class", "bar");
      rect.setAttribute("data-day", d.day);
      rect.setAttribute("data-micro-usdc", String(d.micro_usdc));
      var title = document.createElementNS(ns, "title");
      title.textContent = d.day + ": " + usdc(d.micro_usdc) + " USDC";
      rect.appendChild(title);
      svg.appendChild(rect);
      if (i % 2 === days.length % 2) {
        var label = document.createElementNS(ns, "text");
        label.setAttribute("x", String(i * bw + bw / 2));
        label.setAttribute("y", String(h + 16));
        label.setAttribute("text-anchor", "middle");
        label.textContent = d.day.slice(5);
        svg.appendChild(label);
      }
    });
    chart.appendChild(svg);
    var body = $("earnings-table").querySelector("tbody");
    body.textContent = "";
    days.forEach(function (d) {
      var tr = el("tr");
      tr.appendChild(el("td", null, d.day));
      tr.appendChild(el("td", null, usdc(d.micro_usdc)));
      body.appendChild(tr);
    });
  }

  function refreshDashboard() {
    return api("GET", "/api/publisher/dashboard").then(function (d) {
      $("stat-domains").textContent = String(d.verified_domains.length);
      $("stat-active").textContent = String(d.active_sessions_now);
      $("stat-jobs").textContent = String(d.jobs_completed);
      $("stat-balance").textContent = usdc(d.balance_micro_usdc);
      $("stat-balance").setAttribute("data-micro-usdc", String(d.balance_micro_usdc));
      $("dash-updated").textContent = new Date(d.updated_at).toLocaleTimeString();
      renderChart(d.earnings_by_day);
      lastDashboard = d;
      $("stat-pending").textContent = usdc(d.pending_micro_usdc);
      $("stat-pending").setAttribute("data-micro-usdc", String(d.pending_micro_usdc));
      $("stat-in-flight").textContent = usdc(d.in_flight_micro_usdc);
      $("stat-in-flight").setAttribute("data-micro-usdc", String(d.in_flight_micro_usdc));
      renderPayouts(d.payouts);
      showWithdrawLimits();
      var notices = $("notices");
      notices.textContent = "";
      d.notices.forEach(function (n) { notices.appendChild(el("p", {"class": "notice"}, n.message)); });
      notices.hidden = d.notices.length === 0;
    }).catch(function (e) {
      if (e.status === 401) { say("Your session ended. Please sign in again."); showSignedOut(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("signin-form").addEventListener("submit", signIn);
    $("signup-form").addEventListener("submit", signUp);
    $("passkey-signin").addEventListener("click", passkeySignIn);
    $("signout").addEventListener("click", function () { signOut(false); });
    $("signout-everywhere").addEventListener("click", function () { signOut(true); });
    $("domain-form").addEventListener("submit", addDomain);
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
    api("GET", "/api/publisher/me").then(onSignedIn).catch(function () { showSignedOut(); });
  });
})();
