// The public stats page: /api/stats as figures and two bar charts (plain SVG: one series of bars each, with the
// count on each bar; a charting library would add nothing here). All text is set as text.
const SVG = 'http://www.w3.org/2000/svg';
const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @param {{start: string, jobs: number}[]} buckets @param {(d: Date) => string} label */
function bars(buckets, label) {
  const w = 900, h = 180, top = 14, bottom = 20;
  const max = Math.max(1, ...buckets.map(b => b.jobs));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.setAttribute('role', 'img');
  const step = w / buckets.length;
  buckets.forEach((b, i) => {
    const bh = (h - top - bottom) * b.jobs / max;
    const rect = document.createElementNS(SVG, 'rect');
    rect.setAttribute('x', String(i * step + 2));
    rect.setAttribute('y', String(h - bottom - bh));
    rect.setAttribute('width', String(step - 4));
    rect.setAttribute('height', String(bh));
    rect.dataset.jobs = String(b.jobs);
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${b.start}: ${b.jobs} jobs, ${b.tokens} tokens`;
    rect.append(title);
    const count = document.createElementNS(SVG, 'text');
    count.setAttribute('x', String(i * step + step / 2));
    count.setAttribute('y', String(h - bottom - bh - 3));
    count.setAttribute('text-anchor', 'middle');
    count.textContent = b.jobs ? String(b.jobs) : '';
    const axis = document.createElementNS(SVG, 'text');
    axis.setAttribute('x', String(i * step + step / 2));
    axis.setAttribute('y', String(h - 6));
    axis.setAttribute('text-anchor', 'middle');
    axis.textContent = label(new Date(b.start));
    svg.append(rect, count, axis);
  });
  return svg;
}

async function refresh() {
  const res = await fetch('/api/stats', {cache: 'no-store'});
  if (!res.ok) {
    return;
  }
  const s = await res.json();
  const usdc = (/** @type {number} */ micro) => (micro / 1e6).toFixed(6) + ' USDC';
  const rows = [
    ['Nodes online', String(s.nodes_online.total)],
    ['By engine', Object.entries(s.nodes_online.by_engine).map(([k, v]) => `${k}: ${v}`).join(', ') || '–'],
    ['By tier', Object.entries(s.nodes_online.by_tier).map(([k, v]) => `${k}: ${v}`).join(', ')],
    ['Jobs per minute', s.jobs_per_minute.toFixed(2)],
    ['Tokens per second', s.tokens_per_second.toFixed(2)],
    ['Verification, 24 h', Object.entries(s.verification_24h).map(([k, v]) => `${k}: ${v}`).join(', ')],
    ['Paid to visitors', usdc(s.paid_micro_usdc.visitors)],
    ['Paid to publishers', usdc(s.paid_micro_usdc.publishers)],
  ];
  const figures = $('figures');
  figures.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    figures.append(dt, dd);
  }
  $('chart-24h').replaceChildren(bars(s.series.hourly_24h, d => String(d.getHours()).padStart(2, '0')));
  $('chart-7d').replaceChildren(bars(s.series.daily_7d, d => d.toISOString().slice(5, 10)));
  figures.dataset.loaded = 'true';
}
refresh();
setInterval(refresh, 30000);
