import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS, ERROR_CODES, PayFluxError } from '../../src/errors.js';

describe('error codes', () => {
  it('match the README error table, code and status, row for row', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `(PF_ERR_[A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(rows).toEqual(ERROR_CODES.map((c) => [c, ERRORS[c].status]));
  });

  it('render the JSON contract, with field only for validation', () => {
    expect(new PayFluxError('PF_ERR_UNAUTHORIZED').toBody()).toEqual({ error: { code: 'PF_ERR_UNAUTHORIZED', message: 'missing or invalid API key' } });
    expect(new PayFluxError('PF_ERR_VALIDATION', 'retry_count must be…', 'retry_count').toBody()).toEqual({
      error: { code: 'PF_ERR_VALIDATION', message: 'retry_count must be…', field: 'retry_count' },
    });
  });

  it('are all 4xx or 5xx and unique', () => {
    for (const c of ERROR_CODES) expect(ERRORS[c].status).toBeGreaterThanOrEqual(400);
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
  });
});
