// The demo publisher page (a file, not inline: the page's Content-Security-Policy allows no inline script).
// The demo is served by the backend itself; load the widget from the *other* loopback name so that the host
// page and the widget have different origins. A real publisher writes a plain <script src=...> tag instead.
(function () {
  var otherHost = location.hostname === "127.0.0.1" ? "localhost" : "127.0.0.1";
  var s = document.createElement("script");
  s.src = location.protocol + "//" + otherHost + (location.port ? ":" + location.port : "") + "/embed.js";
  s.async = true;
  s.setAttribute("data-placement", "demo-placement");
  s.setAttribute("data-target", "earnidle-slot");
  document.body.appendChild(s);
})();
