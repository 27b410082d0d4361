// One tile per processor from the live state: band (colour and word), score, trajectory, drivers,
// the segment in focus, events per minute, the last event, and the open incident if any.
import { agoTime, bandPill, el, fmtScore, fmtTime, focusText, humanDriver } from './dashboard-dom.js';

const ARROWS = { accelerating: '↗', stable: '→', decelerating: '↘' };

function trajectory(p) {
  const ratio = p.trajectory_ratio && p.trajectory !== 'stable' ? ' ×' + p.trajectory_ratio.toFixed(1) : '';
  return el(
    'span',
    { class: 'trajectory ' + p.trajectory },
    el('span', { 'aria-hidden': 'true' }, (ARROWS[p.trajectory] || '') + ' '),
    p.trajectory + ratio,
  );
}

function tile(p, now) {
  const nameId = 'tile-' + p.processor.replace(/[^A-Za-z0-9_-]/g, '_');
  const calm = p.drivers.length === 1 && (p.drivers[0] === 'nominal_behavior' || p.drivers[0] === 'insufficient_data');
  const incident = p.open_incident;
  return el(
    'article',
    { class: 'tile band-edge-' + p.band, 'data-processor': p.processor, 'aria-labelledby': nameId },
    el('header', {}, el('h3', { id: nameId }, p.processor), bandPill(p.band)),
    el('p', { class: 'score-line' }, el('span', { class: 'score' }, fmtScore(p.score)), trajectory(p)),
    el(
      'ul',
      { class: 'drivers' + (calm ? ' calm' : ''), 'aria-label': 'Drivers' },
      ...p.drivers.map((d) => el('li', {}, humanDriver(d))),
    ),
    p.focus
      ? el('p', { class: 'focus' }, el('span', { class: 'muted' }, 'Segment in focus: '), focusText(p.focus))
      : null,
    el(
      'dl',
      { class: 'facts' },
      el('div', {}, el('dt', {}, 'Events/min'), el('dd', { class: 'epm' }, String(p.events_per_min))),
      el('div', {}, el('dt', {}, 'Last event'), el('dd', { class: 'last-event' }, agoTime(p.last_event_at, now))),
    ),
    incident
      ? el(
          'p',
          { class: 'incident-note' },
          'Incident open since ' + fmtTime(Date.parse(incident.opened_at)) + ' · peak ',
          bandPill(incident.peak_band, incident.peak_score),
        )
      : null,
  );
}

/** Replaces the tiles in `host` with the snapshot's; lists quiet processors in `quietHost`. */
export function renderTiles(host, quietHost, snapshot) {
  const now = Date.now();
  host.replaceChildren(...snapshot.processors.map((p) => tile(p, now)));
  if (snapshot.processors.length === 0)
    host.append(el('p', { class: 'muted' }, 'No events in the last ' + snapshot.history_hours + ' h.'));
  quietHost.textContent = snapshot.quiet.length
    ? 'No events in the last ' + snapshot.history_hours + ' h from ' + snapshot.quiet.join(', ') + '.'
    : '';
}
