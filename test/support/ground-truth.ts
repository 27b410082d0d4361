/**
 * Ground truth with 2 ingest + 3 consumer processes (`payflux serve`): every exported event
 * carries the score, band and drivers `payflux backtest` gives over the same events, and the
 * warnings are exactly its incidents, one per episode, whichever node is asked.
 */
import { expect } from 'vitest';
import { rendezvousOwner } from '../../src/rendezvous.js';
import { poll } from './poll.js';
import {
  backtest,
  expectEqualsBacktest,
  expectWarningsEqualIncidents,
  exported,
  scenario,
  send,
  settled,
  startTopology,
} from './scale-out.js';
import type { useSuite } from './use-suite.js';

const EVENTS = scenario(300);

export async function groundTruth(s: ReturnType<typeof useSuite>, env: Record<string, string>): Promise<void> {
  // Steady state: the default lease, so that no partition moves on a loaded machine.
  const t = await startTopology(s, { ...env, PAYFLUX_LEASE_TTL_MS: '10000' }, { ingest: 2, consumers: 3 });
  await settled(t);
  const truth = await backtest(s.scratch(), EVENTS);
  await send(t.ingest, EVENTS);
  await poll(
    'every event exported',
    () => exported(t).length,
    (n) => n >= EVENTS.length,
    {
      timeoutMs: 60_000,
      context: () => t.consumers.map((c) => c.stderrTail()).join('\n'),
    },
  );
  expect(expectEqualsBacktest(exported(t), truth)).toBe(0);
  // Each consumer exported the partitions rendezvous hashing gave it, and only those.
  const members = ['c1', 'c2', 'c3'];
  for (const c of t.consumers) {
    const mine = new Set(c.exported().map((l) => String(l.processor)));
    expect([...mine].every((p) => rendezvousOwner(p, members) === c.env.PAYFLUX_CONSUMER_NAME)).toBe(true);
  }
  expect(truth.incidents.length).toBeGreaterThanOrEqual(1);
  for (const node of [...t.ingest, ...t.consumers]) await expectWarningsEqualIncidents(node, truth);
}
