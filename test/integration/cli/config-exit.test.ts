import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI } from '../../support/run-cli.js';
import { useSuite } from '../../support/use-suite.js';

const suite = useSuite();

/** `payflux serve` with only `env` (and PATH), from an empty directory (no stray .env). */
function serve(env: Record<string, string>): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, 'serve'], {
    cwd: suite.scratch(),
    env: { PATH: process.env.PATH ?? '', ...env },
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('payflux serve with a bad configuration', () => {
  it('exits 78 listing every problem, each with its variable', () => {
    const r = serve({ PAYFLUX_READ_COUNT: 'ten', PAYFLUX_TIER: 'tier9', HTTP_ADDR: '127.0.0.1:0' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('PAYFLUX_READ_COUNT');
    expect(r.stderr).toContain('PAYFLUX_TIER');
  });

  it('exits 78 on an alert URL at tier 1, naming the tier', () => {
    const r = serve({ PAYFLUX_ALERT_WEBHOOK_URL: 'https://alerts.example/payflux', HTTP_ADDR: '127.0.0.1:0' });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('PAYFLUX_ALERT_WEBHOOK_URL: alerts are a tier 2 feature (Revenue Protection)');
    expect(r.stderr).toContain('PAYFLUX_TIER=tier1 (Processor Exposure Monitor)');
  });

  it('exits 78 when a key file cannot be read', () => {
    const r = serve({
      PAYFLUX_API_KEYS_FILE: '/nonexistent-payflux-dir/keys',
      PAYFLUX_BUFFER: 'memory',
      HTTP_ADDR: '127.0.0.1:0',
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('PAYFLUX_API_KEYS_FILE: cannot read /nonexistent-payflux-dir/keys');
  });

  it('exits 78 when several consumer processes would share stdout', () => {
    const r = serve({
      PAYFLUX_ROLE: 'consumer',
      PAYFLUX_WORKERS: '2',
      PAYFLUX_EXPORT_MODE: 'both',
      PAYFLUX_EXPORT_FILE: `${suite.scratch()}/export.ndjson`,
      REDIS_ADDR: '127.0.0.1:1',
      HTTP_ADDR: '127.0.0.1:0',
    });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(
      'PAYFLUX_EXPORT_MODE: both writes to stdout, which PAYFLUX_WORKERS=2 consumer processes',
    );
  });
});
