/* The dashboard: polled every few seconds while signed in (stats, earnings by day, payouts, notices). */
import { $, el, formatMicroUsdc as usdc } from "../shared.js";
import { api, say } from "./api.js";
import { P } from "./state.js";
import { renderPayouts, showWithdrawLimits } from "./withdraw.js";
import { showSignedOut } from "./account.js";

const CHART = {width: 560, height: 160, pad: 24};

/**
 * The bar heights of the chart: proportional to the day's earnings and at least 2 px (so every day shows), or
 * all 0 when nothing was earned.
 * @param {number[]} values micro-USDC per day
 * @param {number} height the chart's drawing height
 * @returns {number[]}
 */
export function barHeights(values, height) {
  const max = values.reduce((m, v) => (v > m ? v : m), 0);
  return values.map((v) => (max === 0 ? 0 : Math.max(2, Math.round((v / max) * (height - 10)))));
}

/** @param {{day: string, micro_usdc: number}[]} days */
function renderChart(days) {
  const chart = $("chart");
  chart.textContent = "";
  const ns = "http://www.w3.org/2000/svg";
  const w = CHART.width, h = CHART.height;
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 " + w + " " + (h + CHART.pad));
  svg.setAttribute("width", "100%");
  svg.setAttribute("aria-hidden", "true");
  const bw = w / days.length;
  const heights = barHeights(days.map((d) => d.micro_usdc), h);
  days.forEach((d, i) => {
    const bh = heights[i];
    const rect = document.createElementNS(ns, "rect");
    rect.setAttribute("x", String(i * bw + 3));
    rect.setAttribute("y", String(h - bh));
    rect.setAttribute("width", String(bw - 6));
    rect.setAttribute("height", String(bh));
    rect.setAttribute("class", "bar");
    rect.setAttribute("data-day", d.day);
    rect.setAttribute("data-micro-usdc", String(d.micro_usdc));
    const title = document.createElementNS(ns, "title");
    title.textContent = d.day + ": " + usdc(d.micro_usdc) + " USDC";
    rect.appendChild(title);
    svg.appendChild(rect);
    if (i % 2 === days.length % 2) {
      const label = document.createElementNS(ns, "text");
      label.setAttribute("x", String(i * bw + bw / 2));
      label.setAttribute("y", String(h + 16));
      label.setAttribute("text-anchor", "middle");
      label.textContent = d.day.slice(5);
      svg.appendChild(label);
    }
  });
  chart.appendChild(svg);
  const body = $("earnings-table").querySelector("tbody");
  body.textContent = "";
  days.forEach((d) => {
    const tr = el("tr");
    tr.appendChild(el("td", null, d.day));
    tr.appendChild(el("td", null, usdc(d.micro_usdc)));
    body.appendChild(tr);
  });
}

/**
 * @param {string} id
 * @param {number} micro
 */
function setMicro(id, micro) {
  $(id).textContent = usdc(micro);
  $(id).setAttribute("data-micro-usdc", String(micro));
}

export function refreshDashboard() {
  return api("GET", "/api/publisher/dashboard").then((d) => {
    $("stat-domains").textContent = String(d.verified_domains.length);
    $("stat-active").textContent = String(d.active_sessions_now);
    $("stat-jobs").textContent = String(d.jobs_completed);
    setMicro("stat-balance", d.balance_micro_usdc);
    $("dash-updated").textContent = new Date(d.updated_at).toLocaleTimeString();
    renderChart(d.earnings_by_day);
    P.lastDashboard = d;
    setMicro("stat-pending", d.pending_micro_usdc);
    setMicro("stat-in-flight", d.in_flight_micro_usdc);
    renderPayouts(d.payouts);
    showWithdrawLimits();
    const notices = $("notices");
    notices.textContent = "";
    d.notices.forEach((/** @type {any} */ n) => { notices.appendChild(el("p", {"class": "notice"}, n.message)); });
    notices.hidden = d.notices.length === 0;
  }).catch((e) => {
    if (e.status === 401) { say("Your session ended. Please sign in again."); showSignedOut(); }
  });
}
