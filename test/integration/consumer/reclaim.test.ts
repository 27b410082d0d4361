/**
 * Reclaim after a consumer dies: entries delivered to a consumer process that was killed with
 * SIGKILL are claimed (XAUTOCLAIM) by another consumer process once idle for
 * PAYFLUX_CLAIM_IDLE_MS, and exported by it.
 */
import { describe, expect, it } from 'vitest';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { idFactory } from '../../support/events.js';
import { countIds, parseExportLine, readExportFile } from '../../support/export-lines.js';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { drained, groupState, metric } from '../../support/probes.js';
import { sendEvents } from '../../support/producer.js';
import { poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();

describe('reclaim', { timeout: 30_000 }, () => {
  it('a second consumer process takes the partition over once the killed one’s lease lapses, and exports the entries it held pending', async () => {
    const dir = suite.scratch();
    // Consumer A cannot export (/dev/full), so it holds its batch pending until it is killed.
    const stuck = join(dir, 'a.ndjson');
    symlinkSync('/dev/full', stuck);
    const envA = await payfluxEnv(suite, {
      PAYFLUX_CONSUMER_NAME: 'consumer-a',
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: stuck,
      PAYFLUX_READ_COUNT: '150',
      PAYFLUX_LEASE_TTL_MS: '1500',
    });
    const a = await startPayflux(suite, envA);
    // One request: its 300 events packed in one stream entry.
    const ids = await sendEvents(a.url, 300, idFactory(), 300);
    const held = await poll(
      'A holding a batch',
      () => groupState(suite.redis, envA),
      (s) => (s.consumers['consumer-a'] ?? 0) > 0,
      { context: a.stderrTail },
    );
    // The whole entry, although it carries more events than PAYFLUX_READ_COUNT: a read takes at
    // least one entry.
    expect(held.consumers['consumer-a']).toBe(300);
    expect((await a.stop('SIGKILL')).signal).toBe('SIGKILL');

    // Consumer B: same stream and group, its own name, a short claim idle time.
    const out = join(dir, 'b.ndjson');
    const envB = {
      ...envA,
      PAYFLUX_ROLE: 'consumer',
      PAYFLUX_CONSUMER_NAME: 'consumer-b',
      PAYFLUX_EXPORT_FILE: out,
      PAYFLUX_CLAIM_IDLE_MS: '500',
    };
    const b = await startPayflux(suite, envB);
    const end = await poll('B exported and acked everything', () => groupState(suite.redis, envB), drained, {
      timeoutMs: 10_000,
      context: b.stderrTail,
    });
    expect(end.consumers).toEqual({});

    const lines = readExportFile(out).map(parseExportLine);
    expect([...countIds(lines.map((l) => l.event_id))].sort()).toEqual(ids.map((id) => [id, 1]).sort());
    expect(new Set(lines.map((l) => l.consumer_name))).toEqual(new Set(['consumer-b']));
    // It adopted the one entry that carries the 300 events.
    expect(b.stderrTail()).toMatch(/"partition":"stripe".*"adopted":1[,}]|"adopted":1[,}].*"partition":"stripe"/);
  });

  it('a consumer restarted under the same PAYFLUX_CONSUMER_NAME exports its own pending entries at once, not after PAYFLUX_CLAIM_IDLE_MS', async () => {
    const dir = suite.scratch();
    const stuck = join(dir, 'stuck.ndjson');
    symlinkSync('/dev/full', stuck);
    const env = await payfluxEnv(suite, {
      PAYFLUX_CONSUMER_NAME: 'consumer-fixed',
      PAYFLUX_EXPORT_MODE: 'file',
      PAYFLUX_EXPORT_FILE: stuck,
      PAYFLUX_CLAIM_IDLE_MS: '60000',
    });
    const first = await startPayflux(suite, env);
    const ids = await sendEvents(first.url, 100, idFactory(), 100);
    await poll(
      'the batch held',
      () => groupState(suite.redis, env),
      (s) => s.consumers['consumer-fixed'] === ids.length,
      { context: first.stderrTail },
    );
    await first.stop('SIGKILL');

    // Same name, working export; a reclaim could only take these entries after 60 s of idleness.
    const out = join(dir, 'out.ndjson');
    const again = await startPayflux(suite, { ...env, PAYFLUX_EXPORT_FILE: out });
    await poll('its own pending entries exported', () => groupState(suite.redis, env), drained, {
      timeoutMs: 5000,
      context: again.stderrTail,
    });
    expect([...countIds(readExportFile(out).map((l) => parseExportLine(l).event_id))]).toEqual(
      ids.map((id) => [id, 1]),
    );
    expect(await metric(again.url, 'payflux_consumer_reclaimed_total')).toBe(0);
  });
});
