/**
 * What importing the library really loads, measured in a fresh Node process on the built
 * package (dist/, as `npm test`'s pretest builds it), through the package's own `exports`:
 * `payflux/operators` loads no server library, and `payflux` loads Stripe's SDK only when a
 * Stripe route is configured.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;

/**
 * Every module the import of `specifier` loads: ES modules as the resolve hook sees them, and
 * CommonJS modules from the require cache (a CommonJS package's own `require`s bypass the hook).
 */
const PROBE = `
import { register, createRequire } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
const hooks = 'let port; export function initialize(d) { port = d.port; }' +
  'export async function resolve(s, c, next) { const r = await next(s, c); port.postMessage(r.url); return r; }';
const { port1, port2 } = new MessageChannel();
const seen = new Set();
port1.on('message', (url) => seen.add(url));
register('data:text/javascript,' + encodeURIComponent(hooks), { data: { port: port2 }, transferList: [port2] });
const started = performance.now();
await import(process.argv[1]);
const ms = performance.now() - started;
await new Promise((r) => setTimeout(r, 100));
port1.close();
for (const f of Object.keys(createRequire(import.meta.url).cache)) seen.add('file://' + f);
process.stdout.write(JSON.stringify({ ms, modules: [...seen] }));
`;

async function loads(specifier: string): Promise<{ ms: number; packages: Set<string> }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', PROBE, specifier], { cwd: root });
  const { ms, modules } = JSON.parse(stdout) as { ms: number; modules: string[] };
  const packages = new Set(
    modules.flatMap((url) => {
      const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
      return m === null ? [] : [m[1]!];
    }),
  );
  return { ms, packages };
}

describe('library entry points', () => {
  it('payflux/operators loads no Fastify, ioredis, Stripe, pino or prom-client', async () => {
    const { packages } = await loads('payflux/operators');
    expect(packages).toContain('rxjs');
    for (const heavy of ['fastify', 'ioredis', 'stripe', 'pino', 'prom-client', '@fastify/swagger'])
      expect(packages, heavy).not.toContain(heavy);
  });

  it('payflux loads the server but not Stripe’s SDK', async () => {
    const { packages } = await loads('payflux');
    expect(packages).toContain('fastify');
    expect(packages).toContain('ioredis');
    expect(packages).not.toContain('stripe');
  });

  it('payflux/operators exports the operators and envelope()', async () => {
    const { stdout } = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        "const m = await import('payflux/operators'); process.stdout.write(Object.keys(m).sort().join(','))",
      ],
      { cwd: root },
    );
    const names = stdout.split(',');
    for (const n of ['envelope', 'scoreRisk', 'enrichTier', 'trackIncidents', 'riskStages', 'createEventValidator'])
      expect(names).toContain(n);
    expect(names).not.toContain('start');
  });
});
