import { from, lastValueFrom, map, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import {
  createEventValidator,
  enrichTier,
  envelope,
  scoreRisk,
  trackIncidents,
  type Batch,
  type Envelope,
} from '../../src/payflux-operators.js';

describe('library API (docs/library.md example)', () => {
  it('composes scoreRisk, enrichTier and trackIncidents over batches of your own', async () => {
    const validate = createEventValidator({
      processors: ['stripe', 'adyen'],
      maxClockSkewSec: Infinity,
    });
    const t0 = Date.parse('2026-03-01T00:00:00Z');
    const body = (i: number, failed: boolean) => ({
      event_id: `e${i}`,
      event_timestamp: new Date(t0 + i * 100).toISOString(),
      event_type: failed ? 'payment_failed' : 'payment_succeeded',
      processor: 'stripe',
      failure_category: failed ? (i < 100 ? 'card_declined' : 'gateway_timeout') : undefined,
    });
    const toBatch = (bodies: unknown[], offset: number): Batch => {
      const entries: Envelope[] = [];
      bodies.forEach((b, i) => {
        const v = validate(b, Date.now());
        if (v.ok) entries.push(envelope(`0-${offset + i}`, v.event));
      });
      return { entries, dead: [], ackIds: [] };
    };
    const healthy = Array.from({ length: 100 }, (_, i) => body(i, i % 12 === 0));
    const outage = Array.from({ length: 100 }, (_, i) => body(100 + i, true));

    const out = await lastValueFrom(
      from([toBatch(healthy, 0), toBatch(outage, 100)]).pipe(
        scoreRisk({ model: 'adaptive', thresholds: [0.3, 0.6, 0.8], windowSec: 300, allowedLatenessSec: 30 }),
        enrichTier({ tier: 'tier2', windowSec: 300 }),
        trackIncidents({ cooldownSec: 120, now: () => t0 }),
        map(({ batch, transitions }) => ({
          last: batch.entries[batch.entries.length - 1],
          kinds: transitions.map((t) => t.kind),
        })),
        toArray(),
      ),
    );
    expect(out[0]?.kinds).toEqual([]);
    expect(out[0]?.last?.risk?.band).toBe('low');
    expect(out[1]?.kinds).toContain('open');
    expect(out[1]?.last?.risk?.band).toBe('critical');
    expect(out[1]?.last?.tier?.playbookContext).toMatch(/typically|commonly|often/);
  });
});
