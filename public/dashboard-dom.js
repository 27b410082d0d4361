// DOM and formatting helpers shared by the dashboard's modules. Values from the API go in as
// text (textContent, attribute values), never as markup.

export const $ = (id) => document.getElementById(id);

export const BANDS = ['low', 'elevated', 'high', 'critical'];

function append(node, children) {
  for (const c of children)
    if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
  return node;
}

/** An HTML element: `class`, `data-*`, `aria-*`, `role` and `for` become attributes, the rest properties. */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('data-') || k.startsWith('aria-') || k === 'role' || k === 'for') node.setAttribute(k, v);
    else node[k] = v;
  }
  return append(node, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element; every attribute set as an attribute. */
export function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  return append(node, children);
}

export const fmtScore = (s) => (typeof s === 'number' ? s.toFixed(2) : '–');

export const humanDriver = (d) => d.replace(/_/g, ' ');

/** The segment in focus as people read it: `{"geo_bucket":"BR"}` → "geo bucket BR". */
export function focusText(focus) {
  return Object.entries(focus)
    .map(([k, v]) => k.replace(/_/g, ' ') + ' ' + v)
    .join(', ');
}

const pad = (n) => String(n).padStart(2, '0');

/** 14:02 (or 14:02:10), with the date in front when it is not today. */
export function fmtTime(ms, seconds) {
  const d = new Date(ms);
  const clock = pad(d.getHours()) + ':' + pad(d.getMinutes()) + (seconds ? ':' + pad(d.getSeconds()) : '');
  const today = new Date();
  if (d.toDateString() === today.toDateString()) return clock;
  return d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' }) + ' ' + clock;
}

/** 45 s, 12 min, 3 h 5 min, 2 d 4 h. */
export function fmtDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min';
  const h = Math.floor(m / 60);
  if (h < 48) return h + ' h' + (m % 60 ? ' ' + (m % 60) + ' min' : '');
  return Math.floor(h / 24) + ' d' + (h % 24 ? ' ' + (h % 24) + ' h' : '');
}

export const fmtAgo = (ms, now) => fmtDuration(now - ms) + ' ago';

/** Lead time as people say it: "17 min", or "before the warning" when negative. */
export function fmtLead(seconds) {
  if (seconds === null || seconds === undefined) return '';
  if (seconds <= -1) return fmtDuration(-seconds * 1000) + ' before the warning';
  return fmtDuration(seconds * 1000) + ' lead';
}

/** The band as a word on its colour; `quiet` for a band that is history (a resolved incident's peak). */
export function bandPill(band, score, quiet) {
  const text = score === undefined ? band : band + ' ' + fmtScore(score);
  return el('span', { class: 'band band-' + band + (quiet ? ' quiet' : '') }, text);
}

/** A <time> that the page keeps saying "… ago" about (see `refreshAges`). */
export function agoTime(iso, now) {
  const ms = Date.parse(iso);
  return el('time', { dateTime: iso, title: new Date(ms).toLocaleString(), 'data-ago': String(ms) }, fmtAgo(ms, now));
}

/** Rewrites every `<time data-ago>` for the current time. */
export function refreshAges(now) {
  for (const t of document.querySelectorAll('time[data-ago]')) t.textContent = fmtAgo(Number(t.dataset.ago), now);
}
