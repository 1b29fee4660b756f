// The worker card page (/workers/{wallet or session}): shows /workers/{id}.json. All text is set as text.
const id = decodeURIComponent(location.pathname.replace(/^\/workers\//, '').replace(/\/$/, ''));
const $ = (/** @type {string} */ name) => /** @type {HTMLElement} */ (document.getElementById(name));

const pct = (/** @type {number|null} */ v) => (v === null ? '–' : (v * 100).toFixed(1) + ' %');
const ms = (/** @type {number|null} */ v) => (v === null ? '–' : Math.round(v) + ' ms');

async function load() {
  $('worker-id').textContent = id;
  $('badge').setAttribute('src', '/badge/' + encodeURIComponent(id) + '.svg');
  const res = await fetch('/workers/' + encodeURIComponent(id) + '.json', {cache: 'no-store'});
  const card = $('card');
  if (!res.ok) {
    card.textContent = 'No such worker.';
    return;
  }
  const c = await res.json();
  const rows = [
    ['Tier', c.tier], ['Reputation', c.reputation_score + ' / 100'], ['Jobs done', String(c.jobs_done)],
    ['Success rate', pct(c.success_rate)], ['Verification pass rate', pct(c.verification_pass_rate)],
    ['Job latency p50 / p99', ms(c.latency_p50_ms) + ' / ' + ms(c.latency_p99_ms)],
    ['Uptime 7 / 30 days', pct(c.uptime_7d) + ' / ' + pct(c.uptime_30d)],
    ['Engines', c.engines.join(', ') || '–'], ['First seen', c.first_seen ?? '–'], ['Wallet', c.wallet ?? '–'],
  ];
  for (const [k, v] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = v;
    card.append(dt, dd);
  }
  const receipts = $('receipts');
  for (const link of c.receipts) {
    const a = document.createElement('a');
    a.href = link;
    a.textContent = link.replace('/verify/#session=', '');
    receipts.append(a, ' ');
  }
  card.dataset.loaded = 'true';
}
load();
