/**
 * `payflux backtest` reads its file in 1 MiB chunks, ASCII ones as Latin-1 and the rest through a
 * UTF-8 decoder: the export must carry every character as written, wherever a chunk boundary falls.
 */
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { toPaymentEvent } from '../../../src/events/payment-event.js';
import { delay } from '../../support/poll.js';
import { useSuite } from '../../support/use-suite.js';

const run = promisify(execFile);

const suite = useSuite();
const CHUNK = 1 << 20;

function event(i: number, merchant: string): string {
  return JSON.stringify(
    toPaymentEvent({
      event_id: `txt-${i}`,
      event_type: 'payment_succeeded',
      event_timestamp: new Date(Date.UTC(2026, 10, 24, 9) + i).toISOString(),
      processor: 'stripe',
      merchant_id_hash: merchant,
      retry_count: 0,
    }),
  );
}

/** Lines of ASCII events, with non-ASCII ones placed so that a multi-byte character straddles each chunk boundary. */
function file(): { text: string; merchants: string[] } {
  const merchants: string[] = [];
  let text = '';
  let bytes = 0;
  let i = 0;
  const add = (merchant: string): void => {
    merchants.push(merchant);
    const line = `${event(i++, merchant)}\n`;
    text += line;
    bytes += Buffer.byteLength(line);
  };
  /** Bytes of event i's line before its merchant value. */
  const lead = (n: number): number => {
    const probe = event(n, 'X');
    return Buffer.byteLength(probe.slice(0, probe.indexOf('"X"') + 1));
  };
  const blank = (n: number): number => Buffer.byteLength(event(n, '')) + 1;
  for (const boundary of [CHUNK, 2 * CHUNK, 3 * CHUNK]) {
    while (bytes < boundary - 1000) add(`m_${i}`);
    // ASCII filler lines (merchants of at most 100 characters) until the next line's merchant
    // can start within 90 bytes of the boundary; its 'é' then begins one byte before it.
    while (boundary - bytes - lead(i) > 90)
      add('f'.repeat(Math.max(1, Math.min(100, boundary - bytes - blank(i) - lead(i + 1) - 45))));
    add(`${'a'.repeat(boundary - bytes - lead(i) - 1)}é🚀☕ Zürich`);
  }
  for (let k = 0; k < 50; k++) add(`m_${i}`);
  return { text, merchants };
}

describe('backtest input decoding', () => {
  it('exports every character as written, whether a chunk is ASCII or a character straddles its end', async () => {
    const dir = suite.scratch();
    const { text, merchants } = file();
    const path = join(dir, 'events.ndjson');
    const bytes = Buffer.from(text);
    for (const boundary of [CHUNK, 2 * CHUNK, 3 * CHUNK])
      expect(bytes.subarray(boundary - 1, boundary + 1).toString()).toBe('é');
    writeFileSync(path, bytes);
    // A child process: the reader runs on a worker thread, which needs the built dist/.
    const { stdout: out, stderr } = await run(process.execPath, ['dist/cli.js', 'backtest', path], {
      env: { ...process.env, PAYFLUX_LOG_LEVEL: 'silent' },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(stderr).toContain(`backtest: ${merchants.length} events (0 skipped)`);
    const exported = out
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { merchant_id_hash: string }).merchant_id_hash);
    expect(exported).toEqual(merchants);
    expect(out).not.toContain('\ufffd');
  });

  it('splits lines wherever the chunks end: a CR ending one chunk, a line over three chunks, a last line without LF', async () => {
    const dir = suite.scratch();
    // Line 1 ends exactly at the first chunk's last byte, with its CR; its LF opens the next chunk.
    const first = event(0, 'm_0');
    const line1 = `${first.slice(0, -1)},"extra":"${'x'.repeat(CHUNK - 1 - first.length - 11)}"}`;
    expect(Buffer.byteLength(line1)).toBe(CHUNK - 1);
    // Line 3 is a valid event 2.5 MiB long (unknown fields are allowed), over three chunks.
    const third = event(2, 'm_2');
    const line3 = `${third.slice(0, -1)},"extra":"${'y'.repeat(2.5 * CHUNK)}"}`;
    const text = `${line1}\r\n${event(1, 'm_1')}\r\n${line3}\r\n${event(3, 'm_3')}\r`;
    const path = join(dir, 'crlf.ndjson');
    writeFileSync(path, text);
    expect(Buffer.from(text)[CHUNK - 1]).toBe(13);
    const { stdout, stderr } = await run(process.execPath, ['dist/cli.js', 'backtest', path], {
      env: { ...process.env, PAYFLUX_LOG_LEVEL: 'silent' },
      maxBuffer: 64 * 1024 * 1024,
    });
    expect(stderr).toContain('backtest: 4 events (0 skipped)');
    const out = stdout.trimEnd().split('\n');
    expect(out).toHaveLength(4);
    out.forEach((line, i) => {
      // The stored form of each event, unknown field dropped and no CR left in it.
      expect(line).toContain(event(i, `m_${i}`).slice(1, -1));
      expect(JSON.parse(line)).toMatchObject({ event_id: `txt-${i}`, stream_message_id: `0-${i + 1}` });
      expect(line).not.toContain('extra');
    });
  });

  it('carries every field as validated: escapes, control characters, empty strings, any key order or spacing, and writes the stored form', async () => {
    const dir = suite.scratch();
    const base = {
      event_type: 'payment_failed',
      event_timestamp: '2026-11-24T09:00:00.000Z',
      processor: 'stripe',
      retry_count: 2,
    };
    const odd = [
      'a"quoted"',
      'back\\slash',
      'line\nbreak',
      'unit\u001fsep',
      'record\u001esep',
      '\u0000',
      'tab\there',
      '\u2028',
      'é☕🚀',
      '',
    ];
    const inputs: Record<string, unknown>[] = [];
    const lines: string[] = [];
    odd.forEach((v, i) => {
      const e = { event_id: `odd-${i}`, ...base, merchant_id_hash: v, geo_bucket: i % 2 === 0 ? '' : 'US', channel: v };
      inputs.push(e);
      lines.push(JSON.stringify(toPaymentEvent(e))); // the stored form
      inputs.push({ ...e, event_id: `odd-${i}-b` });
      lines.push(
        `{ "channel": ${JSON.stringify(v)}, "extra": [1, {"x": "y"}], "event_id": "odd-${i}-b", "merchant_id_hash": ${JSON.stringify(v)}, "processor": "stripe", "event_type": "payment_failed", "event_timestamp": "2026-11-24T09:00:00.000Z", "retry_count": 2, "geo_bucket": ${JSON.stringify(i % 2 === 0 ? '' : 'US')} }`,
      );
    });
    // The stored form with spaces, and with escapes JSON.stringify would not write: the same
    // events, which ingest would store (and live export) in the stored form.
    const plain = JSON.stringify(toPaymentEvent({ event_id: 'spaced', ...base, geo_bucket: 'US' }));
    lines.push(plain.replace(/":/g, '": ').replace(/,"/g, ', "'));
    lines.push(plain.replace('"spaced"', '"escap\\u0065d"').replace('"US"', '"\\u0055S\\/"'));
    // Two keys swapped: as long as the stored form, but not it.
    const swapped = plain.replace(
      '"event_id":"spaced","event_type":"payment_failed"',
      '"event_type":"payment_failed","event_id":"swapped"',
    );
    expect(swapped).toHaveLength(plain.length + 1);
    lines.push(swapped.replace('"swapped"', '"swappd"'));
    // The JSON above spells the escapes; the values the producer meant are the parsed ones.
    const expected = lines.map(
      (l) =>
        JSON.parse(JSON.stringify(toPaymentEvent(JSON.parse(l) as Record<string, unknown>))) as Record<string, unknown>,
    );
    const path = join(dir, 'odd.ndjson');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const { stdout } = await run(process.execPath, ['dist/cli.js', 'backtest', path], {
      env: { ...process.env, PAYFLUX_LOG_LEVEL: 'silent' },
    });
    const out = stdout.trimEnd().split('\n');
    expect(out).toHaveLength(lines.length);
    out.forEach((line, i) => {
      const got = JSON.parse(line) as Record<string, unknown>;
      const event = Object.fromEntries(Object.keys(expected[i] ?? {}).map((k) => [k, got[k]]));
      expect(event, lines[i]).toEqual(expected[i]);
      expect(got.stream_message_id).toBe(`0-${i + 1}`);
      // Byte for byte what ingest would have stored, as live exports it: not the line's spacing.
      expect(line, lines[i]).toContain(
        JSON.stringify(toPaymentEvent(JSON.parse(lines[i] ?? '') as Record<string, unknown>)).slice(1, -1),
      );
      expect(got.extra).toBeUndefined();
      // Exactly the export's keys: nothing absent shows up as null or "".
      expect(Object.keys(got).filter((k) => !(k in (expected[i] ?? {})))).toEqual([
        'type',
        'schema_version',
        'stream_message_id',
        'consumer_name',
        'processed_at',
        'processor_risk_score',
        'processor_risk_band',
        'processor_risk_drivers',
      ]);
    });
  });

  it('writes every line through a pipe whose reader falls behind', async () => {
    const dir = suite.scratch();
    const path = join(dir, 'slow-reader.ndjson');
    const lines = Array.from({ length: 6000 }, (_, i) => event(i, `m_${i}`));
    writeFileSync(path, `${lines.join('\n')}\n`);
    const child = spawn(process.execPath, ['dist/cli.js', 'backtest', path], {
      env: { ...process.env, PAYFLUX_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = once(child, 'exit') as Promise<[number]>;
    // Let the pipe fill (64 KiB) and stay full for a while before reading anything.
    child.stdout.pause();
    await delay(1500);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    const ended = once(child.stdout, 'end');
    child.stdout.resume();
    const [code] = await exited;
    expect(code, stderr).toBe(0);
    await ended;
    expect(stderr).toContain('backtest: 6000 events (0 skipped)');
    expect(Buffer.concat(chunks).toString().trimEnd().split('\n')).toHaveLength(6000);
  });
});
