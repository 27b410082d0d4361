import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();
const version = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const logged = (lines: readonly string[], msg: string): Record<string, unknown> | undefined => {
  const line = lines.find((l) => l.includes(`"msg":"${msg}"`));
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, unknown>);
};

describe('payflux serve at start', () => {
  it('logs where it listens with its version and the tier by name', async () => {
    const p = await startPayflux(suite, await payfluxEnv(suite, { PAYFLUX_TIER: 'tier2' }));
    expect(logged(p.stderrLines(), 'server_listening')).toMatchObject({
      version,
      tier: 'tier2',
      tier_label: 'Revenue Protection',
      buffer: 'redis',
    });
  });
});
