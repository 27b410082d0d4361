// PayFlux pilot dashboard: the page's entry module. It asks for the API key, then keeps the
// processor tiles live from the server's stream, draws risk over time per processor, and lists
// incidents. Plain ES modules served from the package: no build step, nothing from elsewhere.
import { api, apiKey, onUnauthorized, streamState, Unauthorized } from './dashboard-api.js';
import { chartSummary, renderChart } from './dashboard-chart.js';
import { $, el, fmtDuration, refreshAges } from './dashboard-dom.js';
import { createIncidents } from './dashboard-incidents.js';
import { renderTiles } from './dashboard-tiles.js';

/** A chart is fetched again at most this often while its processor keeps sending. */
const CHART_REFRESH_MS = 5000;
/** No frame for this long (the server sends one at least every 15 s): say the view is stale. */
const STALE_MS = 35000;

let snapshot = null;
let range = '1h';
let abort = null;
let lastFrameAt = 0;
let linkUp = false;
let incidentSig = '';
let incidentsDue = false;
const charts = new Map();

function setStatus(text, isError) {
  $('status-line').textContent = text;
  $('status-line').className = isError ? 'error' : '';
}

const incidents = createIncidents({
  onRecorded: (w) => refreshChart(w.processor, true),
  nowBand: (p) => (snapshot ? snapshot.processors.find((x) => x.processor === p) : undefined),
  setStatus,
});

function showConnect(message) {
  if (abort) abort.abort();
  abort = null;
  snapshot = null;
  $('board').hidden = true;
  $('forget-key').hidden = true;
  $('live-status').hidden = true;
  $('connect').hidden = false;
  $('key-error').hidden = !message;
  $('key-error').textContent = message || '';
  $('api-key').focus();
}

function liveStatus() {
  const node = $('live-status');
  const age = Date.now() - lastFrameAt;
  const live = linkUp && age < STALE_MS;
  node.className = 'live-status ' + (live ? 'live' : 'stale');
  node.textContent = live
    ? 'Live · updated ' + fmtDuration(age) + ' ago'
    : linkUp
      ? 'Stale · last update ' + fmtDuration(age) + ' ago'
      : 'Reconnecting…';
}

function draw(c) {
  if (!c.view) return;
  renderChart(c.host, c.view, Date.now());
  c.summary.textContent = chartSummary(c.view);
}

function ensureChart(processor) {
  let c = charts.get(processor);
  if (c) return c;
  const id = 'chart-' + processor.replace(/[^A-Za-z0-9_-]/g, '_');
  const host = el('div', { class: 'chart-host' });
  const summary = el('p', { class: 'chart-summary muted' });
  const section = el(
    'section',
    { class: 'chart-card', 'data-processor': processor, 'aria-labelledby': id },
    el('h3', { id }, processor),
    summary,
    host,
  );
  const all = [...charts.keys(), processor].sort();
  const before = charts.get(all[all.indexOf(processor) + 1]);
  $('charts').insertBefore(section, before ? before.section : null);
  c = { section, host, summary, view: null, fetchedAt: 0, lastEvent: null, loading: false, again: false };
  charts.set(processor, c);
  return c;
}

function refreshChart(processor, force) {
  const c = charts.get(processor);
  if (!c) return;
  if (!force && Date.now() - c.fetchedAt < CHART_REFRESH_MS) return;
  if (c.loading) {
    c.again = true;
    return;
  }
  c.loading = true;
  const live = snapshot && snapshot.processors.find((p) => p.processor === processor);
  const lastEvent = live ? live.last_event_at : null;
  api('processors/' + encodeURIComponent(processor) + '/history?range=' + range)
    .then((view) => {
      c.view = view;
      c.fetchedAt = Date.now();
      c.lastEvent = lastEvent;
      draw(c);
    })
    .catch((e) => {
      if (!(e instanceof Unauthorized)) setStatus('Could not load the ' + processor + ' chart: ' + e.message, true);
    })
    .finally(() => {
      c.loading = false;
      if (c.again) {
        c.again = false;
        refreshChart(processor, true);
      }
    });
}

function reloadIncidents() {
  if (incidents.editing()) {
    incidentsDue = true;
    return;
  }
  incidentsDue = false;
  incidents.load(true).catch((e) => {
    if (!(e instanceof Unauthorized)) setStatus('Could not load incidents: ' + e.message, true);
  });
}

function onState(s) {
  const first = snapshot === null;
  snapshot = s;
  lastFrameAt = Date.now();
  $('tier-label').textContent = s.tier_label;
  document.title = 'PayFlux · ' + s.tier_label;
  renderTiles($('tiles'), $('quiet'), s);
  incidents.updateNow();
  // A new, escalated or resolved incident: the table and the charts' spans change.
  const sig = s.processors
    .map((p) => p.processor + ':' + (p.open_incident ? p.open_incident.warning_id + p.open_incident.peak_band : ''))
    .join('|');
  const incidentsChanged = sig !== incidentSig;
  incidentSig = sig;
  if ((incidentsChanged && !first) || incidentsDue) reloadIncidents();
  for (const p of s.processors) {
    const c = ensureChart(p.processor);
    if (!c.view || incidentsChanged) refreshChart(p.processor, true);
    else if (c.lastEvent !== p.last_event_at) refreshChart(p.processor, false);
  }
  $('charts-empty').hidden = s.processors.length > 0;
  liveStatus();
}

function setLink(up) {
  linkUp = up;
  liveStatus();
}

async function connect() {
  const first = await api('processors');
  $('connect').hidden = true;
  $('board').hidden = false;
  $('forget-key').hidden = false;
  $('live-status').hidden = false;
  onState(first);
  reloadIncidents();
  abort = new AbortController();
  void streamState(onState, setLink, abort.signal);
}

function start() {
  connect().catch((e) => {
    if (!(e instanceof Unauthorized)) showConnect('Could not reach PayFlux: ' + e.message);
  });
}

onUnauthorized(() => showConnect('The API key was rejected. Enter a valid key.'));

$('key-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const key = $('api-key').value.trim();
  if (!key) return;
  apiKey.set(key);
  $('api-key').value = '';
  start();
});
$('forget-key').addEventListener('click', () => {
  apiKey.clear();
  showConnect('');
});
$('filters').addEventListener('submit', (ev) => {
  ev.preventDefault();
  reloadIncidents();
});
$('more').addEventListener('click', () =>
  incidents.load(false).catch((e) => {
    if (!(e instanceof Unauthorized)) setStatus('Could not load incidents: ' + e.message, true);
  }),
);
for (const b of document.querySelectorAll('#ranges button')) {
  b.addEventListener('click', () => {
    range = b.dataset.range;
    for (const o of document.querySelectorAll('#ranges button')) o.setAttribute('aria-pressed', String(o === b));
    for (const p of charts.keys()) refreshChart(p, true);
  });
}
let lastWidth = 0;
new ResizeObserver(() => {
  const w = $('charts').clientWidth;
  if (w === lastWidth) return;
  lastWidth = w;
  for (const c of charts.values()) draw(c);
}).observe($('charts'));
setInterval(() => {
  if (!snapshot) return;
  refreshAges(Date.now());
  liveStatus();
}, 1000);

if (apiKey.get()) start();
else showConnect('');
