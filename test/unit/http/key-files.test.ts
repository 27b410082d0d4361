import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { loadConfig } from '../../../src/config.js';
import { loadKeySet, parseKeyFile, sameKeySet } from '../../../src/http/key-files.js';

const file = (text: string): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'payflux-keyfile-')), 'keys');
  writeFileSync(path, text);
  return path;
};

describe('key files', () => {
  it('reads one key per line or comma-separated, ignoring blanks and comments', () => {
    expect(parseKeyFile('# keys\nk1\n\n k2 , k3 # old\r\n')).toEqual(['k1', 'k2', 'k3']);
  });

  it('adds the files to the environment’s keys, without duplicates', () => {
    const set = loadKeySet(
      loadConfig({
        PAYFLUX_API_KEYS: 'env-key',
        PAYFLUX_API_KEYS_FILE: file('env-key\nfile-key\n'),
        PAYFLUX_REVOKED_KEYS_FILE: file('gone'),
      }),
    );
    expect(set).toEqual({ keys: ['env-key', 'file-key'], revoked: ['gone'] });
    expect(sameKeySet(set, { keys: ['file-key', 'env-key'], revoked: ['gone'] })).toBe(true);
    expect(sameKeySet(set, { keys: ['file-key'], revoked: ['gone'] })).toBe(false);
  });

  it('names the variable of a file it cannot read, and of a weak key in prod, never echoing the key', () => {
    expect(() => loadKeySet(loadConfig({ PAYFLUX_API_KEYS_FILE: '/nonexistent-payflux/keys' }))).toThrow(
      /PAYFLUX_API_KEYS_FILE: cannot read \/nonexistent-payflux\/keys \(ENOENT\)/,
    );
    const weak = () =>
      loadKeySet(loadConfig({ PAYFLUX_ENV: 'prod', PAYFLUX_API_KEYS_FILE: file('short\ndev-key-change-me-0001\n') }));
    expect(weak).toThrow(ConfigError);
    expect(weak).toThrow(/PAYFLUX_API_KEYS_FILE: a key of 5 chars is too short/);
    expect(weak).not.toThrow(/change-me/);
    // In prod a key file may be the only source of keys, but it must hold one.
    expect(
      loadKeySet(loadConfig({ PAYFLUX_ENV: 'prod', PAYFLUX_API_KEYS_FILE: file('k_7f3a9c2e1b8d4f60a5\n') })).keys,
    ).toEqual(['k_7f3a9c2e1b8d4f60a5']);
    expect(() => loadKeySet(loadConfig({ PAYFLUX_ENV: 'prod', PAYFLUX_API_KEYS_FILE: file('# none yet\n') }))).toThrow(
      /at least one key is required/,
    );
  });
});
