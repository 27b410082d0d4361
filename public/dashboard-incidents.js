// Incidents as compact rows (status, processor, opened, duration, peak, the processor's band now,
// outcome); a disclosure per row shows the drivers, the tier 2 text and the outcome form. A
// resolved incident shows its peak quietly: it is history, not an alarm.
import { api, Unauthorized } from './dashboard-api.js';
import { $, bandPill, el, fmtDuration, fmtLead, fmtTime, focusText, humanDriver } from './dashboard-dom.js';

const OUTCOME_TYPES = ['throttle', 'review', 'hold', 'auth_degradation', 'rate_limit', 'other', 'none'];
const PAGE = 50;
const COLUMNS = 8;

/** Now as a datetime-local value (local time, to the second). */
function localNow() {
  const d = new Date();
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
}

const leadOf = (w) =>
  w.outcome_timestamp && w.outcome_type !== 'none'
    ? Math.round((Date.parse(w.outcome_timestamp) - Date.parse(w.processed_at)) / 1000)
    : null;

function outcomeCell(w) {
  if (!w.outcome_type) return el('span', { class: 'muted' }, 'none recorded');
  const lead = leadOf(w);
  return el(
    'span',
    { class: 'outcome-text' },
    w.outcome_type.replace(/_/g, ' '),
    lead === null ? null : el('span', { class: 'muted' }, ' · ' + fmtLead(lead)),
  );
}

/**
 * `onRecorded(warning, leadSeconds)` after an outcome is stored; `nowBand(processor)` the
 * processor's live band and score, or undefined.
 */
export function createIncidents({ onRecorded, nowBand, setStatus }) {
  let cursor = null;
  const expanded = new Set();

  function outcomeForm(w) {
    const id = 'o-' + w.warning_id.replace(/[^A-Za-z0-9_-]/g, '_');
    const type = el('select', { class: 'outcome-type', id: id + '-type', required: true, name: 'outcome_type' });
    // No type chosen for the user: a wrong default would be recorded as fact.
    type.append(el('option', { value: '', selected: true, disabled: true }, 'choose…'));
    for (const t of OUTCOME_TYPES) type.append(el('option', { value: t }, t.replace(/_/g, ' ')));
    const when = el('input', {
      type: 'datetime-local',
      class: 'outcome-time',
      id: id + '-time',
      step: 1,
      value: localNow(),
    });
    const notes = el('input', {
      type: 'text',
      class: 'outcome-notes',
      id: id + '-notes',
      maxLength: 2000,
      placeholder: 'optional',
    });
    const button = el('button', { type: 'submit', class: 'record-outcome' }, 'Record outcome');
    const form = el(
      'form',
      { class: 'outcome-form', 'aria-label': 'Record what ' + w.processor + ' did' },
      el('label', { for: id + '-type' }, 'What the processor did', type),
      el('label', { for: id + '-time' }, 'Observed at', when),
      el('label', { for: id + '-notes' }, 'Notes', notes),
      button,
    );
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!type.value) return type.focus();
      const observed = when.value ? new Date(when.value) : new Date();
      const body = { outcome_type: type.value, observed_at: observed.toISOString(), source: 'manual' };
      if (notes.value.trim()) body.notes = notes.value.trim();
      button.disabled = true;
      api('warnings/' + encodeURIComponent(w.warning_id) + '/outcome', { method: 'POST', body: JSON.stringify(body) })
        .then((r) => {
          replaceRow(r.warning);
          const lead = r.lead_time_seconds === null ? '' : ' (' + fmtLead(r.lead_time_seconds) + ')';
          setStatus('Outcome recorded for ' + w.processor + lead + '.');
          onRecorded(r.warning, r.lead_time_seconds);
        })
        .catch((e) => {
          button.disabled = false;
          if (!(e instanceof Unauthorized)) setStatus('Could not record the outcome: ' + e.message, true);
        });
    });
    return form;
  }

  function nowCell(processor) {
    const now = nowBand(processor);
    return now ? bandPill(now.band, now.score) : el('span', { class: 'muted' }, 'no data');
  }

  function rows(w) {
    const resolved = w.status === 'resolved';
    const detailId = 'd-' + w.warning_id.replace(/[^A-Za-z0-9_-]/g, '_');
    const open = expanded.has(w.warning_id);
    const opened = Date.parse(w.opened_at);
    const ended = resolved && w.resolved_at ? Date.parse(w.resolved_at) : Date.now();
    const toggle = el(
      'button',
      { type: 'button', class: 'toggle', 'aria-expanded': String(open), 'aria-controls': detailId },
      'Details',
      el('span', { class: 'visually-hidden' }, ' of ' + w.processor + ' incident opened ' + fmtTime(opened)),
    );
    const cell = (label, cls, ...content) => el('td', { 'data-label': label, class: cls }, ...content);
    const summary = el(
      'tr',
      { class: 'incident ' + w.status, 'data-warning-id': w.warning_id },
      cell('Status', 'status', el('span', { class: 'status-pill ' + w.status }, w.status)),
      cell('Processor', 'processor', w.processor),
      cell(
        'Opened',
        'opened',
        el('time', { dateTime: w.opened_at, title: new Date(opened).toLocaleString() }, fmtTime(opened)),
      ),
      cell('Duration', 'duration', fmtDuration(ended - opened) + (resolved ? '' : ' so far')),
      cell('Peak', 'peak', bandPill(w.peak_band, w.peak_score, resolved)),
      cell('Now', 'now', nowCell(w.processor)),
      cell('Outcome', 'outcome', outcomeCell(w)),
      el('td', { class: 'actions' }, toggle),
    );
    summary.querySelector('.now').setAttribute('data-now-for', w.processor);

    const context = el('div', { class: 'context' });
    if (w.processor_playbook_context) context.append(el('p', {}, w.processor_playbook_context));
    if (w.risk_trajectory) context.append(el('p', {}, w.risk_trajectory));
    const facts = el(
      'dl',
      { class: 'facts' },
      el(
        'div',
        {},
        el('dt', {}, 'Latest'),
        el('dd', {}, bandPill(w.processor_risk_band, w.processor_risk_score, resolved)),
      ),
      el(
        'div',
        {},
        el('dt', {}, 'Drivers'),
        el('dd', { class: 'drivers' }, w.processor_risk_drivers.map(humanDriver).join(', ')),
      ),
      w.processor_risk_focus
        ? el(
            'div',
            {},
            el('dt', {}, 'Segment in focus'),
            el('dd', { class: 'focus' }, focusText(w.processor_risk_focus)),
          )
        : null,
      el('div', {}, el('dt', {}, 'Events'), el('dd', {}, String(w.event_count))),
      el('div', {}, el('dt', {}, 'Raised'), el('dd', {}, fmtTime(Date.parse(w.processed_at), true))),
      w.resolved_at
        ? el('div', {}, el('dt', {}, 'Resolved'), el('dd', {}, fmtTime(Date.parse(w.resolved_at), true)))
        : null,
      w.outcome_notes ? el('div', {}, el('dt', {}, 'Notes'), el('dd', {}, w.outcome_notes)) : null,
    );
    const detail = el(
      'tr',
      { class: 'detail', id: detailId, 'data-detail-for': w.warning_id, hidden: !open },
      el(
        'td',
        { colSpan: COLUMNS },
        el('div', { class: 'detail-body' }, facts, context.childNodes.length ? context : null, outcomeForm(w)),
      ),
    );
    toggle.addEventListener('click', () => {
      const show = detail.hidden;
      detail.hidden = !show;
      toggle.setAttribute('aria-expanded', String(show));
      if (show) expanded.add(w.warning_id);
      // Opened now: "observed at" starts from now, not from when the row was drawn.
      if (show) detail.querySelector('.outcome-time').value = localNow();
      else expanded.delete(w.warning_id);
    });
    return [summary, detail];
  }

  function replaceRow(w) {
    const old = document.querySelector('tr.incident[data-warning-id="' + CSS.escape(w.warning_id) + '"]');
    if (!old) return;
    const oldDetail = old.nextElementSibling;
    const [summary, detail] = rows(w);
    old.replaceWith(summary);
    if (oldDetail && oldDetail.classList.contains('detail')) oldDetail.replaceWith(detail);
  }

  /** Whether someone is typing in an outcome form (a refresh would throw their input away). */
  function editing() {
    const a = document.activeElement;
    return Boolean(a && a.closest && a.closest('#incidents form'));
  }

  async function load(reset) {
    if (reset) cursor = null;
    const q = new URLSearchParams({ limit: String(PAGE) });
    if ($('filter-status').value) q.set('status', $('filter-status').value);
    if ($('filter-processor').value.trim()) q.set('processor', $('filter-processor').value.trim());
    if (cursor) q.set('cursor', cursor);
    const page = await api('warnings?' + q.toString());
    const body = $('incidents');
    const out = page.warnings.flatMap(rows);
    if (reset) body.replaceChildren(...out);
    else body.append(...out);
    cursor = page.next_cursor;
    $('more').hidden = !cursor;
    $('empty').hidden = body.childNodes.length > 0;
  }

  /** The processors' live bands changed: rewrite the "Now" cells. */
  function updateNow() {
    for (const td of document.querySelectorAll('#incidents td[data-now-for]'))
      td.replaceChildren(nowCell(td.getAttribute('data-now-for')));
  }

  return { load, updateNow, editing };
}
