/* Lists the placements the backend serves, with the embed code for each. All values are inserted as text
 * (never as HTML): placement names are user input. */
(function () {
  "use strict";

  function cell(row, text, className) {
    var td = document.createElement("td");
    if (className) {
      var code = document.createElement("code");
      code.textContent = text;
      td.appendChild(code);
    } else {
      td.textContent = text;
    }
    row.appendChild(td);
  }

  function embedCode(placementId) {
    return '<script src="' + window.location.origin + '/embed.js" data-placement="' + placementId +
        '" async></' + 'script>';
  }

  function render(placements) {
    var status = document.getElementById("placements-status");
    var table = document.getElementById("placements");
    var body = table.querySelector("tbody");
    body.textContent = "";
    placements.forEach(function (p) {
      var row = document.createElement("tr");
      row.setAttribute("data-placement-id", p.id);
      cell(row, p.id);
      cell(row, p.publisher_name || p.publisher_id);
      cell(row, (p.publisher_share_bps / 100).toFixed(2) + " %");
      cell(row, p.status);
      cell(row, embedCode(p.id), "code");
      body.appendChild(row);
    });
    status.textContent = placements.length === 0 ? "No placements yet." :
        placements.length + (placements.length === 1 ? " placement" : " placements");
    table.hidden = placements.length === 0;
  }

  document.addEventListener("DOMContentLoaded", function () {
    fetch("/api/placements", {headers: {"Accept": "application/json"}})
      .then(function (r) {
        if (!r.ok) { throw new Error("the server answered " + r.status); }
        return r.json();
      })
      .then(function (body) { render(body.placements || []); })
      .catch(function (e) {
        document.getElementById("placements-status").textContent = "Could not load placements: " + e.message;
      });
  });
})();
