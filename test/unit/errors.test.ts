import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, ERROR_CODES, PayFluxError } from '../../src/errors.js';

describe('error codes', () => {
  it('match the README error table, code and status, row for row', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(PF_ERR_[A-Z_]+)` +\| (\d{3}) +\|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(ERROR_CODES.map((c) => [c, ERRORS[c].status]));
  });

  it('render the JSON contract, with field only for validation', () => {
    expect(new PayFluxError('PF_ERR_UNAUTHORIZED').toBody()).toEqual({
      error: { code: 'PF_ERR_UNAUTHORIZED', message: 'missing or invalid API key' },
    });
    expect(new PayFluxError('PF_ERR_VALIDATION', 'retry_count must be…', { field: 'retry_count' }).toBody()).toEqual({
      error: { code: 'PF_ERR_VALIDATION', message: 'retry_count must be…', field: 'retry_count' },
    });
  });

  it('are all 4xx or 5xx and unique', () => {
    for (const c of ERROR_CODES) expect(ERRORS[c].status).toBeGreaterThanOrEqual(400);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });
});

describe('route schema failures', () => {
  it('name the field the schema rejected', async () => {
    const { default: Fastify } = await import('fastify');
    const { installErrorHandling } = await import('../../src/http/error-handler.js');
    const app = Fastify();
    installErrorHandling(app);
    app.post(
      '/x',
      {
        schema: {
          body: { type: 'object', required: ['a'], properties: { a: { type: 'string' }, n: { type: 'integer' } } },
        },
      },
      async () => 'ok',
    );
    const missing = await app.inject({ method: 'POST', url: '/x', payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: { code: 'PF_ERR_VALIDATION', field: 'a' } });
    const wrong = await app.inject({ method: 'POST', url: '/x', payload: { a: 'x', n: 'many' } });
    expect(wrong.json()).toMatchObject({ error: { code: 'PF_ERR_VALIDATION', field: 'n' } });
    await app.close();
  });
});

describe('the README metrics table', () => {
  it('lists every metric PayFlux registers', async () => {
    const { readFileSync, readdirSync } = await import('node:fs');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Metrics'), readme.indexOf('## Operations endpoints'));
    const src = new URL('../../src/', import.meta.url);
    const files = readdirSync(src, { recursive: true, withFileTypes: true }).filter(
      (f) => f.isFile() && f.name.endsWith('.ts'),
    );
    const names = new Set(
      files.flatMap((f) =>
        [...readFileSync(`${f.parentPath}/${f.name}`, 'utf8').matchAll(/name: '(payflux_[a-z_]+)'/g)].map((m) => m[1]!),
      ),
    );
    expect(names.size).toBeGreaterThan(30);
    // A row may name two metrics as `a` / `_suffix` (same prefix): expand those.
    const documented = new Set<string>();
    for (const row of table.split('\n').filter((l) => l.startsWith('| `'))) {
      const cell = row.split('|')[1] ?? '';
      let base = '';
      for (const [, n] of cell.matchAll(/`([a-z_]+)`/g)) {
        const name = n!.startsWith('_') ? base.replace(/_[a-z]+_total$/, '') + n : n!;
        if (!n!.startsWith('_')) base = n!;
        documented.add(name);
      }
    }
    expect([...names].filter((n) => !documented.has(n))).toEqual([]);
  });
});

describe('framework errors (before any route runs)', () => {
  it('answer with the contract and a fixed message, never the path sent', async () => {
    const { default: Fastify } = await import('fastify');
    const { frameworkError, installErrorHandling } = await import('../../src/http/error-handler.js');
    const app = Fastify({ frameworkErrors: frameworkError });
    installErrorHandling(app);
    app.get('/x/:id', async () => 'ok');
    const long = await app.inject({ method: 'GET', url: `/x/${'a'.repeat(200)}` });
    expect(long.statusCode).toBe(400);
    expect(long.headers['x-request-id']).toBeTypeOf('string');
    expect(long.json()).toEqual({
      error: { code: 'PF_ERR_BAD_REQUEST', message: 'a path segment is longer than allowed' },
    });
    const undecodable = await app.inject({ method: 'GET', url: '/x/%zz' });
    expect(undecodable.json()).toEqual({
      error: { code: 'PF_ERR_BAD_REQUEST', message: 'the request URL cannot be decoded' },
    });
    expect(undecodable.body).not.toContain('%zz');
    await app.close();
  });
});
