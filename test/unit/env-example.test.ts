import { readFileSync } from 'node:fs';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ENV_VARS, loadConfig } from '../../src/config.js';
import { renderEnvExample } from '../../src/env-example.js';

const file = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');

describe('.env.example', () => {
  it('is what `npm run env-example` generates from the configuration schema', () => {
    expect(file).toBe(renderEnvExample());
  });

  it('lists every variable once, each with a line of meaning above it', () => {
    const lines = file.split('\n');
    for (const name of ENV_VARS) {
      const at = lines.flatMap((l, i) => (l.startsWith(`# ${name}=`) ? [i] : []));
      expect(at, name).toHaveLength(1);
      expect(lines[at[0]! - 1], name).toMatch(/^# \S/);
    }
  });

  it('gives defaults the configuration accepts, and that change nothing when uncommented', () => {
    const uncommented = parseEnv(file.replace(/^# ([A-Z][A-Z0-9_]*=)/gm, '$1'));
    expect(Object.keys(uncommented).sort()).toEqual([...ENV_VARS].sort());
    const { consumer: a, ...explicit } = loadConfig(uncommented);
    const { consumer: b, ...implicit } = loadConfig({});
    expect(explicit).toEqual(implicit);
    expect({ ...a, name: '' }).toEqual({ ...b, name: '' });
  });
});
