// PayFlux pilot dashboard: plain script, no build step. Every value from the API is inserted with
// textContent (never innerHTML), so warning text cannot inject markup.
'use strict';

(function () {
  const KEY_STORAGE = 'payflux.apiKey';
  const OUTCOME_TYPES = ['throttle', 'review', 'hold', 'auth_degradation', 'rate_limit', 'other', 'none'];
  const PAGE = 50;
  const $ = (id) => document.getElementById(id);
  let cursor = null;

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') node.className = v;
      else if (k.startsWith('data-')) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
    return node;
  }

  function showConnect(message) {
    $('board').hidden = true;
    $('forget-key').hidden = true;
    $('connect').hidden = false;
    $('key-error').hidden = !message;
    $('key-error').textContent = message || '';
    $('api-key').focus();
  }

  function showBoard() {
    $('connect').hidden = true;
    $('board').hidden = false;
    $('forget-key').hidden = false;
  }

  async function api(path, init) {
    const key = sessionStorage.getItem(KEY_STORAGE);
    const headers = Object.assign(
      { authorization: 'Bearer ' + key },
      init && init.body ? { 'content-type': 'application/json' } : {},
    );
    const res = await fetch(path, Object.assign({}, init, { headers }));
    const body = await res.json().catch(() => ({}));
    if (res.status === 401) {
      sessionStorage.removeItem(KEY_STORAGE);
      showConnect('The API key was rejected. Enter a valid key.');
      throw new Error('unauthorized');
    }
    if (!res.ok) throw new Error((body.error && body.error.message) || 'request failed (' + res.status + ')');
    return body;
  }

  function localNow() {
    const d = new Date();
    d.setSeconds(0, 0);
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }

  function fmtTime(iso) {
    return iso ? new Date(iso).toLocaleString() : '';
  }

  function outcomeText(w) {
    if (!w.outcome_type) return el('span', { class: 'muted' }, '—');
    const parts = [w.outcome_type, 'via ' + w.outcome_source, fmtTime(w.outcome_timestamp)];
    return el('span', {}, parts.join(' · '), w.outcome_notes ? el('div', { class: 'muted' }, w.outcome_notes) : null);
  }

  function outcomeForm(w) {
    const type = el('select', { class: 'outcome-type', 'aria-label': 'Outcome type' });
    for (const t of OUTCOME_TYPES) type.append(el('option', { value: t }, t));
    const when = el('input', {
      type: 'datetime-local',
      class: 'outcome-time',
      value: localNow(),
      'aria-label': 'Observed at',
    });
    const notes = el('input', {
      type: 'text',
      class: 'outcome-notes',
      maxLength: 2000,
      placeholder: 'notes (optional)',
      'aria-label': 'Notes',
    });
    const button = el('button', { type: 'submit', class: 'record-outcome' }, 'Record');
    const form = el('form', { class: 'outcome-form' }, type, when, notes, button);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const observed = when.value ? new Date(when.value) : new Date();
      const body = { outcome_type: type.value, observed_at: observed.toISOString(), source: 'manual' };
      if (notes.value.trim()) body.notes = notes.value.trim();
      button.disabled = true;
      api('warnings/' + encodeURIComponent(w.warning_id) + '/outcome', { method: 'POST', body: JSON.stringify(body) })
        .then((r) => {
          const row = rowFor(r.warning);
          document.querySelector('tr[data-warning-id="' + CSS.escape(w.warning_id) + '"]').replaceWith(row);
          const lead =
            r.lead_time_seconds === null ? '' : ' (lead time ' + Math.round(r.lead_time_seconds / 60) + ' min)';
          setStatus('Outcome recorded for ' + w.processor + lead + '.');
        })
        .catch((e) => {
          button.disabled = false;
          if (e.message !== 'unauthorized') setStatus('Could not record the outcome: ' + e.message, true);
        });
    });
    return form;
  }

  function rowFor(w) {
    const context = el('div', { class: 'context' });
    if (w.processor_playbook_context) context.append(el('p', {}, w.processor_playbook_context));
    if (w.risk_trajectory) context.append(el('p', {}, w.risk_trajectory));
    if (!context.childNodes.length) context.append(el('span', { class: 'muted' }, '—'));
    const band = el('span', { class: 'band band-' + w.processor_risk_band }, w.processor_risk_band);
    const peak = w.peak_band !== w.processor_risk_band ? el('div', { class: 'muted' }, 'peak ' + w.peak_band) : null;
    return el(
      'tr',
      { 'data-warning-id': w.warning_id, class: 'warning' },
      el('td', {}, fmtTime(w.processed_at)),
      el('td', { class: 'processor' }, w.processor),
      el(
        'td',
        { class: 'status' },
        w.status,
        w.resolved_at ? el('div', { class: 'muted' }, 'resolved ' + fmtTime(w.resolved_at)) : null,
      ),
      el('td', { class: 'band-cell' }, band, peak),
      el(
        'td',
        { class: 'score' },
        w.processor_risk_score.toFixed(2),
        el('div', { class: 'muted' }, 'peak ' + w.peak_score.toFixed(2)),
      ),
      el('td', { class: 'drivers' }, w.processor_risk_drivers.join(', ')),
      el('td', {}, context),
      el('td', { class: 'events' }, w.event_count),
      el('td', { class: 'outcome' }, outcomeText(w)),
      el('td', {}, outcomeForm(w)),
    );
  }

  function setStatus(text, isError) {
    $('status-line').textContent = text;
    $('status-line').className = isError ? 'error' : '';
  }

  async function load(reset) {
    if (reset) {
      cursor = null;
      $('warnings').replaceChildren();
    }
    const q = new URLSearchParams({ limit: String(PAGE) });
    if ($('filter-status').value) q.set('status', $('filter-status').value);
    if ($('filter-processor').value.trim()) q.set('processor', $('filter-processor').value.trim());
    if (cursor) q.set('cursor', cursor);
    const page = await api('warnings?' + q.toString());
    showBoard();
    for (const w of page.warnings) $('warnings').append(rowFor(w));
    cursor = page.next_cursor;
    $('more').hidden = !cursor;
    $('empty').hidden = $('warnings').childNodes.length > 0;
  }

  function refresh(reset) {
    load(reset).catch((e) => {
      if (e.message !== 'unauthorized') setStatus('Could not load warnings: ' + e.message, true);
    });
  }

  $('key-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const key = $('api-key').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORAGE, key);
    $('api-key').value = '';
    refresh(true);
  });
  $('forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    showConnect('');
  });
  $('filters').addEventListener('submit', (ev) => {
    ev.preventDefault();
    refresh(true);
  });
  $('more').addEventListener('click', () => refresh(false));

  if (sessionStorage.getItem(KEY_STORAGE)) refresh(true);
  else showConnect('');
})();
