import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createApiKeys, keyIdOf } from '../../../src/http/api-keys.js';

describe('API keys', () => {
  const keys = createApiKeys(['key-one-0123456789', 'key-two-0123456789'], []);

  it('accepts every configured key and reports only an 8-char id', () => {
    expect(keys.check('Bearer key-one-0123456789')).toEqual({ ok: true, keyId: keyIdOf('key-one-0123456789') });
    expect(keys.check('bearer key-two-0123456789')).toMatchObject({ ok: true });
    expect(keyIdOf('key-one-0123456789')).toMatch(/^[0-9a-f]{8}$/);
  });

  it('names a key by the first 8 hex chars of its SHA-256, as the docs tell operators', () => {
    for (const k of ['key-one-0123456789', 'ключ-ünïcode-0123', '\u0000\u00ff-edge-bytes']) {
      const id = createHash('sha256').update(k).digest('hex').slice(0, 8);
      expect(keyIdOf(k)).toBe(id);
      expect(createApiKeys([k], []).check(`Bearer ${k}`)).toEqual({ ok: true, keyId: id });
    }
  });

  it('keeps rejecting a wrong key after a right one (the digest buffer is reused between checks)', () => {
    expect(keys.check('Bearer key-one-0123456789')).toMatchObject({ ok: true });
    expect(keys.check('Bearer key-one-01234567890')).toEqual({ ok: false, reason: 'invalid' });
    expect(keys.check('Bearer key-two-0123456789')).toMatchObject({ ok: true });
  });

  it('forgets the keys it accepted on a reload: a key revoked or removed is refused at once', () => {
    const k = createApiKeys(['old-key-0123456789', 'new-key-0123456789'], []);
    expect(k.check('Bearer old-key-0123456789').ok).toBe(true);
    expect(k.check('Bearer new-key-0123456789').ok).toBe(true);
    k.reload(['new-key-0123456789'], ['old-key-0123456789']);
    expect(k.check('Bearer old-key-0123456789')).toEqual({ ok: false, reason: 'revoked' });
    k.reload([], []);
    expect(k.check('Bearer new-key-0123456789')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('answers a remembered key as the first time, by any spelling of the scheme and spacing', () => {
    const first = keys.check('Bearer key-one-0123456789');
    for (const h of ['Bearer key-one-0123456789', 'BEARER key-one-0123456789', 'Bearer   key-one-0123456789  '])
      expect(keys.check(h)).toEqual(first);
    expect(keys.check('Bearer key-one-0123456788')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('distinguishes missing, malformed and wrong keys', () => {
    expect(keys.check(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(keys.check('')).toEqual({ ok: false, reason: 'missing' });
    expect(keys.check('Basic dXNlcjpwYXNz')).toEqual({ ok: false, reason: 'malformed' });
    expect(keys.check('Bearer ')).toEqual({ ok: false, reason: 'malformed' });
    expect(keys.check('Bearer key-one-012345678')).toEqual({ ok: false, reason: 'invalid' });
    expect(keys.check('Bearer key-one-0123456789x')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('lets revoked keys win over configured ones', () => {
    const k = createApiKeys(['old-key-0123456789', 'new-key-0123456789'], ['old-key-0123456789']);
    expect(k.check('Bearer old-key-0123456789')).toEqual({ ok: false, reason: 'revoked' });
    expect(k.check('Bearer new-key-0123456789')).toMatchObject({ ok: true });
  });

  it('supports rotation by reload: add the new key, then revoke the old one', () => {
    const k = createApiKeys(['old-key-0123456789'], []);
    k.reload(['old-key-0123456789', 'new-key-0123456789'], []);
    expect(k.check('Bearer old-key-0123456789').ok).toBe(true);
    expect(k.check('Bearer new-key-0123456789').ok).toBe(true);
    k.reload(['new-key-0123456789'], ['old-key-0123456789']);
    expect(k.check('Bearer old-key-0123456789')).toEqual({ ok: false, reason: 'revoked' });
    expect(k.check('Bearer new-key-0123456789').ok).toBe(true);
    expect(k.size).toBe(1);
  });

  it('refuses everything when no keys are configured', () => {
    expect(createApiKeys([], []).check('Bearer anything')).toEqual({ ok: false, reason: 'invalid' });
  });
});
