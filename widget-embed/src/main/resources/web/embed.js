/*
 * Earn Idle embed loader.
 *
 * A publisher adds one line to a page:
 *   <script src="https://WIDGET-ORIGIN/embed.js" data-placement="PLACEMENT-ID" async></script>
 * and this script inserts the visitor-facing iframe right after the script tag (or into the element whose id is
 * given in data-target). The iframe is served from the widget origin, never from the host page, so the host page
 * cannot read the visitor's wallet or session. Nothing runs in the iframe before the visitor consents.
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

  var iframe = document.createElement("iframe");
  iframe.src = src;
  iframe.title = script.getAttribute("data-title") || "Earn Idle: lend spare compute, earn USDC";
  iframe.loading = "lazy";
  iframe.setAttribute("allow", "cross-origin-isolated");
  iframe.setAttribute("data-earnidle-placement", placement);
  // Fixed height reserved up front: the host page never shifts when the widget loads.
  iframe.style.cssText = "display:block;width:100%;max-width:420px;height:420px;border:1px solid #d0d4dc;" +
      "border-radius:12px;background:transparent;color-scheme:normal;";

  var targetId = script.getAttribute("data-target");
  var target = targetId ? document.getElementById(targetId) : null;
  if (target) {
    target.appendChild(iframe);
  } else if (script.parentNode) {
    script.parentNode.insertBefore(iframe, script.nextSibling);
  }
})();
