// The /verify/ page: reads receipts from the text area (pasted or dropped) or fetches them for #session= / #job=,
// then shows the browser's own verdict per receipt (receipt-verifier.js).
import {parseInput, verifyReceipts} from './receipt-verifier.js';

const input = /** @type {HTMLTextAreaElement} */ (document.getElementById('input'));
const apiKey = /** @type {HTMLInputElement} */ (document.getElementById('api-key'));
const summary = /** @type {HTMLElement} */ (document.getElementById('summary'));
const table = /** @type {HTMLTableElement} */ (document.getElementById('results'));

/** @param {string} url @param {Record<string, string>} [headers] */
async function getJson(url, headers = {}) {
  const res = await fetch(url, {headers, cache: 'no-store'});
  if (!res.ok) {
    throw new Error(`GET ${url}: HTTP ${res.status}`);
  }
  return res.json();
}

/** Every page of a session's chain, from its first receipt. */
async function fetchChain(sessionId) {
  const receipts = [];
  let next = `/api/nodes/${encodeURIComponent(sessionId)}/receipts?from=1&limit=500`;
  while (next) {
    const page = await getJson(next);
    receipts.push(...page.receipts);
    next = page.next;
  }
  return {session_id: sessionId, from: 1, receipts};
}

/** @param {string} state @param {string} text */
function show(state, text) {
  summary.dataset.ok = state;
  summary.textContent = text;
}

/** @param {Awaited<ReturnType<typeof verifyReceipts>>} verdict */
function render(verdict) {
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const r of verdict.results) {
    const tr = body.insertRow();
    tr.dataset.index = String(r.index + 1);
    tr.dataset.ok = String(r.ok);
    const cells = [String(r.index + 1), r.ok ? '✓' : '✗', r.kind ?? '', r.job ?? '', r.issuedAt ?? '', r.id ?? '',
      r.reason ?? ''];
    const classes = ['', 'verdict', '', 'id', '', 'id', 'reason'];
    cells.forEach((text, i) => {
      const td = tr.insertCell();
      td.textContent = String(text);
      if (classes[i]) {
        td.className = classes[i];
      }
    });
  }
  table.hidden = verdict.results.length === 0;
  if (verdict.results.length === 0) {
    show('false', '✗ no receipts to verify');
  } else if (verdict.ok) {
    show('true', `✓ all ${verdict.results.length} receipts verified`);
  } else {
    const b = verdict.firstBroken;
    show('false', `✗ receipt #${b.index + 1}${b.id ? ' (' + b.id + ')' : ''}: ${b.reason}`);
  }
}

/** @param {{items: any[], fromStart: boolean}} parsed @param {boolean} chain */
async function verify(parsed, chain) {
  const jwks = await getJson('/.well-known/earnidle-receipt-keys.json');
  render(await verifyReceipts(parsed.items, jwks, {chain, fromStart: parsed.fromStart}));
}

async function verifyInput() {
  try {
    await verify(parseInput(input.value), true);
  } catch (e) {
    table.hidden = true;
    show('false', '✗ ' + (e instanceof Error ? e.message : String(e)));
  }
}

async function fromHash() {
  const params = new URLSearchParams(location.hash.slice(1));
  try {
    if (params.get('session')) {
      show('', 'fetching the chain…');
      const chain = await fetchChain(params.get('session'));
      input.value = JSON.stringify(chain, null, 2);
      await verify({items: chain.receipts, fromStart: true}, true);
    } else if (params.get('job')) {
      if (!apiKey.value) {
        show('', 'enter the API key of the job\'s customer, then press Verify');
        return;
      }
      const job = await getJson(`/api/jobs/${encodeURIComponent(params.get('job'))}/receipts`,
        {Authorization: 'Bearer ' + apiKey.value});
      input.value = JSON.stringify(job.receipts, null, 2);
      // a job's receipts may come from several sessions: signatures and periods are checked, links are not
      await verify({items: job.receipts, fromStart: false}, false);
    }
  } catch (e) {
    show('false', '✗ ' + (e instanceof Error ? e.message : String(e)));
  }
}

document.getElementById('verify')?.addEventListener('click', () => {
  const params = new URLSearchParams(location.hash.slice(1));
  if (params.get('job') && !input.value.trim()) {
    fromHash();
  } else {
    verifyInput();
  }
});
input.addEventListener('dragover', e => e.preventDefault());
input.addEventListener('drop', async e => {
  e.preventDefault();
  const file = e.dataTransfer?.files[0];
  if (file) {
    input.value = await file.text();
    verifyInput();
  }
});
window.addEventListener('hashchange', fromHash);
fromHash();
