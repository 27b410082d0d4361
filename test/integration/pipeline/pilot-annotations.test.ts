/** Outcome annotation lines reach every export destination, as the export mode says. */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { post, startTestApp, TEST_KEY, type TestApp } from '../../support/app.js';
import { event } from '../../support/events.js';
import { readExportFile } from '../../support/export-lines.js';
import { defined, poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();
const auth = { authorization: `Bearer ${TEST_KEY}` };

/** An outage on stripe until its warning opens; the warning's id. */
async function openWarning(app: TestApp): Promise<string> {
  const t0 = Date.now() - 120_000;
  const outage = Array.from({ length: 200 }, (_, i) =>
    event({
      failure_category: 'gateway_timeout',
      retry_count: 2,
      event_timestamp: new Date(t0 + i * 300).toISOString(),
    }),
  );
  await post(`${app.url}/v1/events/batch`, outage);
  return poll(
    'a stripe warning',
    async () => {
      const res = await fetch(`${app.url}/pilot/warnings?processor=stripe`, { headers: auth });
      return ((await res.json()) as { warnings: { warning_id: string }[] }).warnings[0]?.warning_id;
    },
    defined,
    { timeoutMs: 8000 },
  );
}

const annotations = (lines: readonly Record<string, unknown>[]) =>
  lines.filter((l) => l.type === 'pilot_outcome_annotation');

describe('pilot outcome annotations', () => {
  it.each(['file', 'both'] as const)('are written to every export destination in %s mode', async (mode) => {
    const file = join(suite.scratch(), 'export.ndjson');
    const app = await startTestApp(suite, {
      PAYFLUX_RATELIMIT_RPS: '0',
      PAYFLUX_PILOT_MODE: 'true',
      PAYFLUX_EXPORT_MODE: mode,
      PAYFLUX_EXPORT_FILE: file,
    });
    const id = await openWarning(app);
    const res = await fetch(`${app.url}/pilot/warnings/${encodeURIComponent(id)}/outcome`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ outcome_type: 'hold', observed_at: new Date().toISOString(), source: 'manual' }),
    });
    expect(res.status).toBeLessThan(300);
    const inFile = await poll(
      'the annotation line in the file',
      () => annotations(readExportFile(file).map((l) => JSON.parse(l) as Record<string, unknown>)),
      (found) => found.length > 0,
    );
    expect(inFile).toMatchObject([{ warning_id: id, outcome_type: 'hold' }]);
    if (mode === 'both')
      expect(
        await poll(
          'the line on stdout',
          () => annotations(app.lines),
          (found) => found.length > 0,
        ),
      ).toEqual(inFile);
    else expect(app.lines).toEqual([]);
  });
});
