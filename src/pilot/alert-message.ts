/**
 * What an incident alert says: a Slack incoming-webhook message and a generic JSON body.
 * Built once when the alert is queued, so a retry sends exactly the bytes first attempted.
 */
import type { Incident, IncidentTransitionKind } from '../operators/track-incidents.js';

export type AlertKind = Exclude<IncidentTransitionKind, 'update'>;

/** The generic webhook body. `alert_id` is stable across retries: receivers dedup on it. */
export interface WebhookAlert {
  readonly type: 'payflux_incident_alert';
  readonly alert_id: string;
  readonly kind: AlertKind;
  readonly created_at: string;
  readonly warning: Incident;
}

export function webhookAlert(alertId: string, kind: AlertKind, incident: Incident, nowMs: number): WebhookAlert {
  return {
    type: 'payflux_incident_alert',
    alert_id: alertId,
    kind,
    created_at: new Date(nowMs).toISOString(),
    warning: incident,
  };
}

/** Slack mrkdwn treats these three as control characters. */
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function title(kind: AlertKind, i: Incident): string {
  switch (kind) {
    case 'open':
      return `Risk incident opened on ${i.processor}: ${i.processor_risk_band}`;
    case 'escalate':
      return `Risk incident on ${i.processor} escalated to ${i.processor_risk_band}`;
    case 'resolve':
      return `Risk incident on ${i.processor} resolved (peak ${i.peak_band})`;
  }
}

/** A Slack incoming-webhook message: `text` for notifications, blocks for the channel. */
/** " · *Focus* geo_bucket BR" when the incident names a segment. */
function focusText(focus: Readonly<Record<string, string>> | null | undefined): string {
  if (focus === null || focus === undefined) return '';
  const parts = Object.entries(focus).map(([k, v]) => `${k} ${v}`);
  return parts.length === 0 ? '' : ` · *Focus* ${esc(parts.join(', '))}`;
}

export function slackAlert(kind: AlertKind, i: Incident): object {
  const head = title(kind, i);
  const lines = [
    `*Band* ${i.processor_risk_band} (peak ${i.peak_band}) · *Score* ${i.processor_risk_score.toFixed(2)} (peak ${i.peak_score.toFixed(2)})`,
    `*Drivers* ${esc(i.processor_risk_drivers.join(', '))}${focusText(i.processor_risk_focus)}`,
    `*Events* ${i.event_count} · *Opened* ${i.opened_at}${i.resolved_at === null ? '' : ` · *Resolved* ${i.resolved_at}`}`,
  ];
  if (i.processor_playbook_context !== undefined && i.processor_playbook_context !== '')
    lines.push(`_${esc(i.processor_playbook_context)}_`);
  if (i.risk_trajectory !== undefined) lines.push(esc(i.risk_trajectory));
  return {
    text: `PayFlux: ${esc(head)}`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: head.slice(0, 150) } },
      { type: 'section', text: { type: 'mrkdwn', text: lines.join('\n').slice(0, 3000) } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: `PayFlux warning \`${esc(i.warning_id)}\`` }] },
    ],
  };
}
