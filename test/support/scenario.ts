/**
 * Scenario traffic for tests against an in-process app: events shaped like `payflux loadgen`'s
 * scenarios (commands/loadgen.ts), spread evenly over a span of event time, posted in batches.
 */
import { randomUUID } from 'node:crypto';
import { SCENARIOS } from '../../src/commands/loadgen.js';
import { TEST_KEY } from './app.js';

export interface ScenarioSpan {
  readonly processor: string;
  /** A key of loadgen's SCENARIOS: `healthy`, `outage`, `retry_storm`, … */
  readonly scenario: string;
  readonly events: number;
  readonly fromMs: number;
  readonly toMs: number;
}

/** Events of one span, in time order; failures every 1/failureRate events, so counts are exact. */
export function scenarioEvents(s: ScenarioSpan): Record<string, unknown>[] {
  const shape = SCENARIOS[s.scenario];
  if (shape === undefined) throw new Error(`no scenario ${s.scenario}`);
  const out: Record<string, unknown>[] = [];
  let owed = 0;
  for (let i = 0; i < s.events; i++) {
    owed += shape.failureRate;
    const failed = owed >= 1;
    if (failed) owed -= 1;
    out.push({
      event_id: randomUUID(),
      event_type: failed ? 'payment_failed' : 'payment_succeeded',
      event_timestamp: new Date(s.fromMs + ((s.toMs - s.fromMs) * i) / Math.max(1, s.events - 1)).toISOString(),
      processor: s.processor,
      merchant_id_hash: `m_${i % 50}`,
      failure_category: failed ? shape.category() : undefined,
      geo_bucket: `G${i % shape.geos}`,
      retry_count: failed ? shape.retries() : 0,
    });
  }
  return out;
}

/** POST the spans' events, merged in time order, in batches of `size`; throws unless all were accepted. */
export async function postScenario(url: string, spans: readonly ScenarioSpan[], size = 500): Promise<number> {
  const events = spans
    .flatMap(scenarioEvents)
    .sort((a, b) => String(a.event_timestamp).localeCompare(String(b.event_timestamp)));
  for (let i = 0; i < events.length; i += size) {
    const chunk = events.slice(i, i + size);
    const res = await fetch(`${url}/v1/events/batch`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(chunk),
    });
    const body = (await res.json()) as { accepted?: number };
    if (res.status !== 200 || body.accepted !== chunk.length)
      throw new Error(`batch answered ${res.status}: ${JSON.stringify(body).slice(0, 300)}`);
  }
  return events.length;
}
