// Risk over time for one processor as SVG drawn here (no library, nothing loaded from elsewhere):
// band zones behind the thresholds, incident spans shaded, the score line (each step's highest
// score), outcome markers with their type and lead time. Pointer or arrow keys show a point's values.
import { BANDS, el, fmtLead, fmtScore, fmtTime, humanDriver, svg } from './dashboard-dom.js';

const HEIGHT = 190;
const M = { top: 22, right: 10, bottom: 22, left: 34 };

function bandOf(score, thresholds) {
  let b = 0;
  for (let i = 0; i < thresholds.length; i++) if (score >= thresholds[i]) b = i + 1;
  return BANDS[b];
}

/** Tick spacing for the x axis: about one label per 90 px. */
function tickStep(spanMs, width) {
  const want = spanMs / Math.max(2, Math.floor(width / 90));
  const steps = [
    60e3,
    5 * 60e3,
    10 * 60e3,
    15 * 60e3,
    30 * 60e3,
    3600e3,
    2 * 3600e3,
    3 * 3600e3,
    4 * 3600e3,
    6 * 3600e3,
  ];
  return steps.find((s) => s >= want) || steps[steps.length - 1];
}

function pointText(p, view) {
  const failed = p.events > 0 ? Math.round((100 * p.failures) / p.events) + '% failed' : 'no events';
  const drivers = p.drivers.length ? ' · ' + p.drivers.map(humanDriver).join(', ') : '';
  const step = view.step_sec >= 60 ? view.step_sec / 60 + ' min' : view.step_sec + ' s';
  return (
    fmtTime(p.t, view.step_sec < 60) +
    ' (' +
    step +
    '): highest ' +
    fmtScore(p.max_score) +
    ' ' +
    p.max_band +
    ', ' +
    p.events +
    ' events, ' +
    failed +
    drivers
  );
}

/** Outcomes of the view's incidents that fall in its range. */
function outcomesOf(view) {
  return view.incidents.filter((i) => {
    if (!i.outcome_type || !i.outcome_timestamp) return false;
    const t = Date.parse(i.outcome_timestamp);
    return t >= view.from && t <= view.to;
  });
}

/** A one-line summary for people who do not see the chart. */
export function chartSummary(view) {
  const last = view.points[view.points.length - 1];
  const peak = view.points.reduce((m, p) => (p.max_score > (m ? m.max_score : -1) ? p : m), undefined);
  const parts = [];
  parts.push(last ? 'latest ' + fmtScore(last.score) + ' ' + last.band : 'no events in this range');
  if (peak) parts.push('highest ' + fmtScore(peak.max_score) + ' ' + peak.max_band);
  const n = view.incidents.length;
  parts.push(n === 1 ? '1 incident' : n + ' incidents');
  const o = outcomesOf(view).length;
  if (o) parts.push(o === 1 ? '1 outcome' : o + ' outcomes');
  return parts.join(' · ');
}

/**
 * Draws `view` (GET processors/:p/history) into `host`, replacing what was there, at the host's
 * width. Returns nothing; call again with new data or a new width.
 */
export function renderChart(host, view, now) {
  const width = Math.max(260, Math.floor(host.clientWidth || 600));
  const pw = width - M.left - M.right;
  const ph = HEIGHT - M.top - M.bottom;
  const from = view.from;
  const to = view.to;
  const x = (t) => M.left + ((t - from) / (to - from)) * pw;
  const y = (s) => M.top + (1 - s) * ph;
  const th = view.thresholds;

  const root = svg('svg', {
    class: 'chart',
    width,
    height: HEIGHT,
    viewBox: '0 0 ' + width + ' ' + HEIGHT,
    role: 'img',
    'aria-label': 'Risk score of ' + view.processor + ' over the last ' + view.range + ': ' + chartSummary(view),
    'data-points': view.points.length,
  });

  // Band zones and threshold lines.
  const edges = [0].concat(th, [1]);
  for (let i = 0; i < BANDS.length; i++) {
    root.append(
      svg('rect', {
        class: 'zone zone-' + BANDS[i],
        x: M.left,
        width: pw,
        y: y(edges[i + 1]),
        height: y(edges[i]) - y(edges[i + 1]),
      }),
    );
  }
  for (const [i, t] of th.entries()) {
    root.append(svg('line', { class: 'threshold', x1: M.left, x2: M.left + pw, y1: y(t), y2: y(t) }));
    root.append(svg('text', { class: 'axis', x: M.left - 4, y: y(t) + 3, 'text-anchor': 'end' }, t.toFixed(1)));
    root.append(svg('text', { class: 'zone-label', x: M.left + 3, y: y(t) - 3 }, BANDS[i + 1]));
  }
  root.append(svg('text', { class: 'axis', x: M.left - 4, y: y(0) + 3, 'text-anchor': 'end' }, '0'));
  root.append(svg('text', { class: 'axis', x: M.left - 4, y: y(1) + 3, 'text-anchor': 'end' }, '1'));

  // Incident spans.
  for (const i of view.incidents) {
    const a = Math.max(from, Date.parse(i.opened_at));
    const b = Math.min(to, i.resolved_at ? Date.parse(i.resolved_at) : now);
    if (!(b >= a)) continue;
    const title =
      'Incident ' +
      i.status +
      ', opened ' +
      fmtTime(Date.parse(i.opened_at)) +
      (i.resolved_at ? ', resolved ' + fmtTime(Date.parse(i.resolved_at)) : '') +
      ', peak ' +
      i.peak_band +
      ' ' +
      fmtScore(i.peak_score);
    root.append(
      svg(
        'rect',
        {
          class: 'incident-span ' + i.status,
          x: x(a),
          width: Math.max(2, x(b) - x(a)),
          y: M.top,
          height: ph,
          'data-warning-id': i.warning_id,
        },
        svg('title', {}, title),
      ),
    );
  }

  // X axis.
  const step = tickStep(to - from, pw);
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    root.append(svg('line', { class: 'tick', x1: x(t), x2: x(t), y1: M.top + ph, y2: M.top + ph + 4 }));
    root.append(svg('text', { class: 'axis', x: x(t), y: HEIGHT - 6, 'text-anchor': 'middle' }, fmtTime(t)));
  }
  root.append(svg('line', { class: 'baseline', x1: M.left, x2: M.left + pw, y1: y(0), y2: y(0) }));

  // The score line, broken where there were no events for more than a step and a half.
  const gap = view.step_sec * 1500;
  const px = (p) => x(p.t + view.step_sec * 500);
  const joined = (a, b) => a !== undefined && b !== undefined && b.t - a.t <= gap;
  let d = '';
  view.points.forEach((p, i) => {
    d += (joined(view.points[i - 1], p) ? 'L' : 'M') + px(p).toFixed(1) + ' ' + y(p.max_score).toFixed(1);
  });
  if (d) root.append(svg('path', { class: 'score-line', d }));
  view.points.forEach((p, i) => {
    // A step with no neighbour draws no line: a dot instead.
    const alone = !joined(view.points[i - 1], p) && !joined(p, view.points[i + 1]);
    if (p.max_band === 'low' && !alone) return;
    root.append(svg('circle', { class: 'pt pt-' + p.max_band, cx: px(p), cy: y(p.max_score), r: alone ? 3 : 2.2 }));
  });

  // Outcome markers: a line at the time the processor acted, its type and lead time on top.
  for (const i of outcomesOf(view)) {
    const t = Date.parse(i.outcome_timestamp);
    const lead = fmtLead(i.lead_time_seconds);
    const label = i.outcome_type.replace(/_/g, ' ') + (i.lead_time_seconds !== null ? ' · ' + lead : '');
    const mx = x(t);
    const anchor = mx > M.left + pw * 0.75 ? 'end' : 'start';
    root.append(
      svg(
        'g',
        { class: 'outcome-marker', 'data-warning-id': i.warning_id, 'data-outcome-type': i.outcome_type },
        svg('title', {}, 'Outcome: ' + label + ' at ' + fmtTime(t, true)),
        svg('line', { x1: mx, x2: mx, y1: M.top - 4, y2: M.top + ph }),
        svg('path', { d: 'M' + mx + ' ' + (M.top - 9) + 'l4 4l-4 4l-4 -4z' }),
        svg('text', { x: mx + (anchor === 'end' ? -7 : 7), y: M.top - 8, 'text-anchor': anchor }, label),
      ),
    );
  }

  // Cursor and readout.
  const cursor = svg('g', { class: 'cursor', visibility: 'hidden' });
  const cline = svg('line', { y1: M.top, y2: M.top + ph });
  const cdot = svg('circle', { r: 4 });
  cursor.append(cline, cdot);
  root.append(cursor);

  const tip = el('div', { class: 'chart-tip', hidden: true });
  const readout = el('p', { class: 'visually-hidden', 'aria-live': 'polite' });
  const plot = el('div', {
    class: 'chart-plot',
    tabIndex: 0,
    role: 'group',
    'aria-label': 'Risk chart of ' + view.processor + '; arrow keys read the values point by point',
  });
  plot.append(root, tip);

  let index = -1;
  const show = (i) => {
    const p = view.points[i];
    if (!p) return;
    index = i;
    const cx = x(p.t + view.step_sec * 500);
    cline.setAttribute('x1', cx);
    cline.setAttribute('x2', cx);
    cdot.setAttribute('cx', cx);
    cdot.setAttribute('cy', y(p.max_score));
    cdot.setAttribute('class', 'cursor-dot pt-' + bandOf(p.max_score, th));
    cursor.setAttribute('visibility', 'visible');
    tip.textContent = pointText(p, view);
    tip.hidden = false;
    // CSSOM, not a style attribute: allowed by the page's Content-Security-Policy.
    const left = Math.min(Math.max(0, cx - 110), width - 230);
    tip.style.left = left + 'px';
    readout.textContent = tip.textContent;
  };
  const hide = () => {
    cursor.setAttribute('visibility', 'hidden');
    tip.hidden = true;
  };
  const nearest = (clientX) => {
    const box = root.getBoundingClientRect();
    const t = from + ((clientX - box.left - M.left) / pw) * (to - from);
    let best = -1;
    let dist = Infinity;
    view.points.forEach((p, i) => {
      const dd = Math.abs(p.t - t);
      if (dd < dist) ((dist = dd), (best = i));
    });
    return best;
  };
  plot.addEventListener('pointermove', (e) => show(nearest(e.clientX)));
  plot.addEventListener('pointerleave', hide);
  plot.addEventListener('blur', hide);
  plot.addEventListener('keydown', (e) => {
    const n = view.points.length;
    if (!n) return;
    const moves = { ArrowLeft: -1, ArrowRight: 1, ArrowDown: -10, ArrowUp: 10, PageDown: -60, PageUp: 60 };
    let next;
    if (e.key in moves) next = index < 0 ? n - 1 : Math.min(n - 1, Math.max(0, index + moves[e.key]));
    else if (e.key === 'Home') next = 0;
    else if (e.key === 'End') next = n - 1;
    else if (e.key === 'Escape') return hide();
    else return;
    e.preventDefault();
    show(next);
  });

  host.replaceChildren(plot, readout);
}
