/**
 * The live status page: one self-contained HTML document (inline CSS and JavaScript, an SVG
 * chart, no CDN), so it works offline and from any query API. It polls GET /status/data.
 */
export const STATUS_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:";

export const STATUS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Converge status</title>
<style>
  :root { --ok: #1a7f37; --lagging: #b08800; --stuck: #cf222e; --muted: #57606a; --line: #d0d7de; }
  * { box-sizing: border-box; }
  body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
  header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #24292f; color: #fff; }
  header h1 { font-size: 16px; margin: 0; }
  header .meta { color: #c9d1d9; font-size: 12px; margin-left: auto; }
  header form { display: flex; gap: 6px; }
  header input { width: 180px; font-size: 12px; padding: 3px 6px; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(330px, 1fr)); gap: 14px; padding: 14px 20px; }
  section { background: #fff; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eaeef2; font-variant-numeric: tabular-nums; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; }
  td.n { text-align: right; }
  .badge { display: inline-block; min-width: 62px; text-align: center; padding: 1px 8px; border-radius: 10px; color: #fff; font-size: 12px; font-weight: 600; }
  .badge.ok { background: var(--ok); } .badge.lagging { background: var(--lagging); } .badge.stuck { background: var(--stuck); }
  .kv { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; }
  .kv dt { color: var(--muted); } .kv dd { margin: 0; font-variant-numeric: tabular-nums; }
  .error { color: var(--stuck); }
  .legend { display: flex; flex-wrap: wrap; gap: 12px; font-size: 12px; color: var(--muted); }
  .legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: -1px; }
  svg text { font-size: 10px; fill: var(--muted); }
  ul.findings { margin: 6px 0 0; padding-left: 18px; font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>Converge status</h1>
  <span id="connection" class="meta">connecting…</span>
  <form id="token-form" autocomplete="off">
    <input id="token" type="password" placeholder="bearer token (optional)" aria-label="bearer token">
    <button type="submit">use</button>
  </form>
</header>
<main>
  <section class="wide">
    <h2>Projections</h2>
    <table id="projections">
      <thead><tr><th>projection</th><th>state</th><th class="n">position</th><th class="n">lag (events)</th><th class="n">lag (s)</th><th class="n">dead letters</th><th>checkpoint updated</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Lag, last five minutes (seconds)</h2>
    <svg id="chart" width="100%" height="170" viewBox="0 0 900 170" preserveAspectRatio="none" role="img" aria-label="lag chart"></svg>
    <div id="legend" class="legend"></div>
  </section>
  <section><h2>Relay (JetStream)</h2><dl id="relay" class="kv"></dl></section>
  <section><h2>Reconciler</h2><dl id="reconciler" class="kv"></dl><ul id="findings" class="findings"></ul></section>
  <section><h2>Sagas in flight</h2><dl id="sagas" class="kv"></dl></section>
</main>
<script>
(() => {
  'use strict';
  const POLL_MS = 1000;
  const CHART_MS = 5 * 60 * 1000;
  const COLORS = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#bc4c00', '#57606a'];

  // The one place the page authenticates: a bearer token from "#token=…" or the token field, kept for the tab only.
  const auth = {
    key: 'converge.status.token',
    init() {
      const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
      if (match) {
        sessionStorage.setItem(this.key, decodeURIComponent(match[1]));
        history.replaceState(null, '', location.pathname + location.search); // the token leaves the address bar
      }
    },
    set(token) { token ? sessionStorage.setItem(this.key, token) : sessionStorage.removeItem(this.key); },
    headers() {
      const token = sessionStorage.getItem(this.key);
      return token ? { Authorization: 'Bearer ' + token } : {};
    },
  };

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  };
  const number = (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en'));
  const ago = (iso) => {
    if (!iso) return 'never';
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    return s < 60 ? s.toFixed(0) + ' s ago' : s < 3600 ? (s / 60).toFixed(0) + ' min ago' : new Date(iso).toLocaleString();
  };
  const list = (target, pairs) => {
    target.replaceChildren(...pairs.flatMap(([k, v, cls]) => [el('dt', {}, k), el('dd', cls ? { class: cls } : {}, v)]));
  };

  function renderProjections(projections) {
    $('projections').tBodies[0].replaceChildren(...projections.map((p) =>
      el('tr', { 'data-projection': p.name, 'data-state': p.state },
        el('td', {}, p.name),
        el('td', {}, el('span', { class: 'badge ' + p.state, 'data-field': 'state' }, p.state)),
        el('td', { class: 'n', 'data-field': 'position' }, number(p.position)),
        el('td', { class: 'n', 'data-field': 'lag-events' }, number(p.lag.events)),
        el('td', { class: 'n', 'data-field': 'lag-seconds' }, p.lag.seconds.toFixed(1)),
        el('td', { class: 'n', 'data-field': 'dead-letters' }, number(p.deadLetters)),
        el('td', {}, ago(p.updatedAt)))));
  }

  function renderChart(data) {
    const svg = $('chart');
    const W = 900, H = 170, L = 40, B = 18, T = 6;
    const now = Date.parse(data.generatedAt);
    const samples = data.history.filter((s) => now - Date.parse(s.at) <= CHART_MS);
    const names = data.projections.map((p) => p.name);
    const max = Math.max(data.thresholds.okLagSeconds * 2, ...samples.flatMap((s) => names.map((n) => (s.lag[n] ? s.lag[n].seconds : 0))));
    const x = (at) => L + ((Date.parse(at) - (now - CHART_MS)) / CHART_MS) * (W - L - 4);
    const y = (v) => T + (1 - v / max) * (H - T - B);
    const ns = 'http://www.w3.org/2000/svg';
    const node = (tag, attrs, text) => {
      const n = document.createElementNS(ns, tag);
      for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
      if (text !== undefined) n.textContent = text;
      return n;
    };
    const parts = [];
    for (const v of [0, max / 2, max]) {
      parts.push(node('line', { x1: L, x2: W, y1: y(v), y2: y(v), stroke: '#eaeef2' }));
      parts.push(node('text', { x: L - 4, y: y(v) + 3, 'text-anchor': 'end' }, v.toFixed(v < 10 ? 1 : 0)));
    }
    parts.push(node('line', { x1: L, x2: W, y1: y(data.thresholds.okLagSeconds), y2: y(data.thresholds.okLagSeconds), stroke: '#b08800', 'stroke-dasharray': '4 3' }));
    for (const m of [5, 4, 3, 2, 1, 0]) {
      const anchor = m === 5 ? 'start' : m === 0 ? 'end' : 'middle';
      parts.push(node('text', { x: L + ((5 - m) / 5) * (W - L - 4), y: H - 4, 'text-anchor': anchor }, m ? '-' + m + ' min' : 'now'));
    }
    names.forEach((name, i) => {
      const points = samples.filter((s) => s.lag[name]).map((s) => x(s.at).toFixed(1) + ',' + y(s.lag[name].seconds).toFixed(1)).join(' ');
      if (points) parts.push(node('polyline', { points, fill: 'none', stroke: COLORS[i % COLORS.length], 'stroke-width': 2, 'data-projection': name }));
    });
    svg.replaceChildren(...parts);
    $('legend').replaceChildren(...names.map((name, i) => el('span', {}, el('i', { style: 'background:' + COLORS[i % COLORS.length] }), name)));
  }

  function renderRelay(relay) {
    list($('relay'), relay.error
      ? [['state', relay.error, 'error']]
      : [['last published', '#' + number(relay.lastSequence)], ['at', relay.lastPublishedAt ? ago(relay.lastPublishedAt) : 'nothing yet'], ['events in stream', number(relay.messages)]]);
  }

  function renderReconciler({ lastRun, lastWithDifferences }) {
    if (!lastRun) {
      list($('reconciler'), [['last run', 'none recorded yet']]);
      $('findings').replaceChildren();
      return;
    }
    const found = (r) => r.differences.changed + ' changed, ' + r.differences.missing + ' missing, ' + r.differences.extra + ' extra';
    list($('reconciler'), [
      ['last run', '#' + lastRun.run + ', ' + ago(lastRun.finishedAt) + ' (' + lastRun.durationMs + ' ms)'],
      ['checked', number(lastRun.checked) + ' documents'],
      ['found', found(lastRun), lastRun.differences.changed + lastRun.differences.missing + lastRun.differences.extra ? 'error' : ''],
      ['repaired', number(lastRun.repaired)],
      ['last findings', lastWithDifferences ? 'run #' + lastWithDifferences.run + ', ' + ago(lastWithDifferences.finishedAt) + ': ' + found(lastWithDifferences) : 'none since start'],
    ]);
    $('findings').replaceChildren(...(lastWithDifferences ? lastWithDifferences.findings : []).map((f) =>
      el('li', {}, (f.repaired ? 'repaired ' : 'found ') + f.kind + ' ' + f.projection + ' ' + f.collection + '/' + f.id)));
  }

  function renderSagas(sagas) {
    list($('sagas'), [['in flight', number(sagas.inFlight)], ...Object.entries(sagas.byStatus).map(([status, n]) => [status.replace('_', ' '), number(n)])]);
  }

  async function poll() {
    try {
      const response = await fetch('status/data', { headers: { Accept: 'application/json', ...auth.headers() }, cache: 'no-store' });
      if (response.status === 401 || response.status === 403) throw new Error('a valid bearer token is needed (field above, or #token=… in the address)');
      if (!response.ok) throw new Error('status data answered ' + response.status);
      const data = await response.json();
      renderProjections(data.projections);
      renderChart(data);
      renderRelay(data.relay);
      renderReconciler(data.reconciler);
      renderSagas(data.sagas);
      $('connection').textContent = 'updated ' + new Date(data.generatedAt).toLocaleTimeString();
      $('connection').className = 'meta';
    } catch (error) {
      $('connection').textContent = error.message;
      $('connection').className = 'meta error';
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  auth.init();
  $('token-form').addEventListener('submit', (event) => {
    event.preventDefault();
    auth.set($('token').value.trim());
    $('token').value = '';
  });
  poll();
})();
</script>
</body>
</html>
`;
