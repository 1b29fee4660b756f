// The worker card page (docs/stats.md): /workers/{wallet or session id}. It reads the public JSON card from
// /api/workers/{id} and writes every value as text (never as markup).
(function () {
    'use strict';
    const id = decodeURIComponent(location.pathname.replace(/^\/workers\//, '').replace(/\/$/, ''));
    const $ = (elementId) => document.getElementById(elementId);
    const text = (elementId, value) => { $(elementId).textContent = value; };
    const pct = (rate) => rate === null || rate === undefined ? '–' : (rate * 100).toFixed(1) + ' %';
    const ms = (v) => v === null || v === undefined ? '–' : v + ' ms';
    const when = (iso) => new Date(iso).toLocaleString();
    text('worker-id', id);

    fetch('/api/workers/' + encodeURIComponent(id), { headers: { Accept: 'application/json' } })
        .then((r) => r.ok ? r.json() : r.json().then((p) => Promise.reject(new Error(p.detail || r.statusText))))
        .then(show)
        .catch((e) => text('status', 'No card: ' + e.message));

    function show(card) {
        text('worker-id', card.id);
        text('wallet', card.wallet_address || 'none linked');
        text('score', String(card.reputation.score));
        text('tier', card.reputation.tier);
        text('jobs-done', String(card.jobs_done));
        text('success-rate', pct(card.success_rate));
        text('pass-rate', pct(card.verification.pass_rate));
        text('verifications', card.verification.passed + ' passed, ' + card.verification.failed + ' failed, '
            + card.verification.pending + ' pending, ' + card.verification.not_sampled + ' not sampled');
        text('latency', ms(card.latency_ms.p50) + ' / ' + ms(card.latency_ms.p99)
            + ' (' + card.latency_ms.samples + ' jobs)');
        text('uptime', pct(card.uptime.d7) + ' / ' + pct(card.uptime.d30));
        text('engines', card.engines.length ? card.engines.join(', ') : 'none yet');
        text('first-seen', when(card.first_seen));
        text('last-seen', when(card.last_seen));
        $('receipts').href = card.receipts_url;
        $('badge').src = card.badge_url;
        const body = $('sessions');
        for (const s of card.sessions) {
            const tr = document.createElement('tr');
            for (const v of [s.session_id, when(s.first_seen), when(s.last_seen)]) {
                const td = document.createElement('td');
                td.textContent = v;
                tr.appendChild(td);
            }
            const td = document.createElement('td');
            const a = document.createElement('a');
            a.href = s.receipts_url;
            a.textContent = 'verify';
            td.appendChild(a);
            tr.appendChild(td);
            body.appendChild(tr);
        }
        text('status', '');
        $('card').hidden = false;
    }
})();
