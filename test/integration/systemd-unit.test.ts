/** deploy/systemd/payflux.service passes systemd's own checks and keeps its promises. */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const unitPath = new URL('../../deploy/systemd/payflux.service', import.meta.url).pathname;
const unit = readFileSync(unitPath, 'utf8');
const hasSystemd = spawnSync('systemd-analyze', ['--version']).status === 0;

// `verify` checks that ExecStart's binary exists: where Node is not /usr/bin/node, check a copy
// that differs only in that path.
const dir = mkdtempSync(join(tmpdir(), 'payflux-unit-'));
const checked = join(dir, 'payflux.service');
if (existsSync('/usr/bin/node')) copyFileSync(unitPath, checked);
else writeFileSync(checked, unit.replace('/usr/bin/node', process.execPath));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const directives = new Map<string, string[]>();
for (const m of unit.matchAll(/^([A-Za-z]+)=(.*)$/gm)) directives.set(m[1]!, [...(directives.get(m[1]!) ?? []), m[2]!]);
const one = (key: string): string | undefined => directives.get(key)?.at(-1);

describe('the systemd unit', () => {
  it.skipIf(!hasSystemd)('passes systemd-analyze verify without a warning', () => {
    const r = spawnSync('systemd-analyze', ['verify', checked], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!hasSystemd)('rates OK in systemd-analyze security (exposure at most 2 of 10)', () => {
    const out = execFileSync('systemd-analyze', ['security', '--offline=true', checked], { encoding: 'utf8' });
    const exposure = Number(/Overall exposure level for payflux\.service: ([\d.]+)/.exec(out)?.[1]);
    expect(exposure).toBeLessThanOrEqual(2);
  });

  it('runs the package’s CLI unprivileged, hardened, reloading on SIGHUP', () => {
    expect(one('ExecStart')).toMatch(/ \/opt\/payflux\/dist\/cli\.js serve$/);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin.payflux).toBe('dist/cli.js');
    expect(one('ExecReload')).toBe('/bin/kill -HUP $MAINPID');
    for (const [key, value] of [
      ['DynamicUser', 'yes'],
      ['NoNewPrivileges', 'yes'],
      ['ProtectSystem', 'strict'],
      ['ProtectHome', 'yes'],
      ['PrivateTmp', 'yes'],
      ['CapabilityBoundingSet', ''],
      ['Restart', 'on-failure'],
      ['RestartPreventExitStatus', '78'],
      ['StandardOutput', 'journal'],
      ['StandardError', 'journal'],
    ])
      expect(one(key!), key).toBe(value);
  });

  it('gives PayFlux longer to stop than its own graceful shutdown takes', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const graceMs = loadConfig({}).shutdownTimeoutMs;
    expect(Number(one('TimeoutStopSec')?.replace(/s$/, '')) * 1000).toBeGreaterThan(graceMs);
  });
});
