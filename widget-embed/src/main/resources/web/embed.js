/*
 * Earn Idle embed loader.
 *
 * A publisher adds one line to a page:
 *   <script src="https://WIDGET-ORIGIN/embed.js" data-placement="PLACEMENT-ID" async></script>
 * and this script inserts the visitor-facing iframe right after the script tag (or into the element whose id is
 * given in data-target). The iframe is served from the widget origin, never from the host page, so the host page
 * cannot read the visitor's wallet or session. Nothing runs in the iframe before the visitor consents.
 *
 * Host page API (docs/widget.md): window.EarnIdle.widgets[i] (or EarnIdle.get(placementId)) has
 *   on(type, fn) / off(type, fn)   type: "ready" | "status" | "earnings" | "request"
 *   requestStart()                 asks the visitor (inside the iframe) to start; never starts by itself
 *   requestPause()                 pauses a running session (the visitor can resume)
 * and the iframe element fires DOM events "earnidle:<type>" with the message as `detail`.
 * Messages are only accepted from the widget's own window and origin, and only sent to the widget's origin.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script) {
    // Very old engines: fall back to the last script that names a placement and has not been handled yet.
    var candidates = document.querySelectorAll("script[data-placement]:not([data-earnidle-loaded])");
    script = candidates[candidates.length - 1];
  }
  if (!script || script.getAttribute("data-earnidle-loaded")) {
    return;
  }
  script.setAttribute("data-earnidle-loaded", "true");

  var placement = script.getAttribute("data-placement");
  if (!placement || !/^[A-Za-z0-9_-]{1,64}$/.test(placement)) {
    if (window.console) {
      console.error("Earn Idle: data-placement is missing or invalid on the embed script tag.");
    }
    return;
  }

  var widgetOrigin = new URL(script.src, document.baseURI).origin;
  var src = widgetOrigin + "/widget/?placement=" + encodeURIComponent(placement) +
      "&host=" + encodeURIComponent(window.location.origin);
  var height = parseInt(script.getAttribute("data-height") || "", 10);
  if (!(height >= 320 && height <= 1200)) {
    height = 520;
  }

  var iframe = document.createElement("iframe");
  iframe.src = src;
  iframe.title = script.getAttribute("data-title") || "Earn Idle: lend spare compute, earn USDC";
  iframe.loading = "lazy";
  // cross-origin-isolated: multi-threaded WASM where the host page is isolated (single thread otherwise).
  iframe.setAttribute("allow", "cross-origin-isolated");
  iframe.setAttribute("data-earnidle-placement", placement);
  // The full height is reserved up front (and the width follows the container), so the host page never shifts.
  iframe.style.cssText = "display:block;box-sizing:border-box;width:100%;max-width:480px;height:" + height + "px;" +
      "border:1px solid #c4c9d2;border-radius:12px;background:transparent;color-scheme:normal;";

  var listeners = {};
  var widget = {
    placement: placement,
    iframe: iframe,
    origin: widgetOrigin,
    lastStatus: null,
    lastEarnings: null,
    on: function (type, fn) {
      (listeners[type] = listeners[type] || []).push(fn);
      return widget;
    },
    off: function (type, fn) {
      listeners[type] = (listeners[type] || []).filter(function (f) { return f !== fn; });
      return widget;
    },
    requestStart: function () { send("start"); },
    requestPause: function () { send("pause"); }
  };

  function send(action) {
    if (iframe.contentWindow) {
      iframe.contentWindow.postMessage({source: "earnidle-host", type: "request", action: action}, widgetOrigin);
    }
  }

  window.addEventListener("message", function (event) {
    // Only the widget's own window, from the widget's origin, is believed.
    if (event.origin !== widgetOrigin || event.source !== iframe.contentWindow) {
      return;
    }
    var d = event.data;
    if (!d || typeof d !== "object" || d.source !== "earnidle" || typeof d.type !== "string") {
      return;
    }
    if (d.type === "status") { widget.lastStatus = d; }
    if (d.type === "earnings") { widget.lastEarnings = d; }
    (listeners[d.type] || []).slice().forEach(function (fn) {
      try { fn(d); } catch (e) { if (window.console) { console.error(e); } }
    });
    var ev;
    try {
      ev = new CustomEvent("earnidle:" + d.type, {detail: d, bubbles: true});
    } catch (e) {
      ev = document.createEvent("CustomEvent");
      ev.initCustomEvent("earnidle:" + d.type, true, false, d);
    }
    iframe.dispatchEvent(ev);
  });

  var api = window.EarnIdle = window.EarnIdle || {widgets: []};
  if (!api.get) {
    api.get = function (id) {
      for (var i = 0; i < api.widgets.length; i++) {
        if (api.widgets[i].placement === id) { return api.widgets[i]; }
      }
      return null;
    };
  }
  api.widgets.push(widget);

  var targetId = script.getAttribute("data-target");
  var target = targetId ? document.getElementById(targetId) : null;
  if (target) {
    target.appendChild(iframe);
  } else if (script.parentNode) {
    script.parentNode.insertBefore(iframe, script.nextSibling);
  }
})();
