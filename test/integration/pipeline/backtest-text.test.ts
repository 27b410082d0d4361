/**
 * `payflux backtest` reads its file in 1 MiB chunks, ASCII ones as Latin-1 and the rest through a
 * UTF-8 decoder: the export must carry every character as written, wherever a chunk boundary falls.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';
import { toPaymentEvent } from '../../../src/events.js';
import { runBacktest } from '../../../src/pipeline/backtest.js';

const CHUNK = 1 << 20;
const dir = mkdtempSync(join(tmpdir(), 'payflux-backtest-text-'));

function event(i: number, merchant: string): string {
  return JSON.stringify(toPaymentEvent({ event_id: `txt-${i}`, event_type: 'payment_succeeded', event_timestamp: new Date(Date.UTC(2026, 10, 24, 9) + i).toISOString(), processor: 'stripe', merchant_id_hash: merchant, retry_count: 0 }));
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
    while (boundary - bytes - lead(i) > 90) add('f'.repeat(Math.max(1, Math.min(100, boundary - bytes - blank(i) - lead(i + 1) - 45))));
    add(`${'a'.repeat(boundary - bytes - lead(i) - 1)}é🚀☕ Zürich`);
  }
  for (let k = 0; k < 50; k++) add(`m_${i}`);
  return { text, merchants };
}

describe('backtest input decoding', () => {
  it('exports every character as written, whether a chunk is ASCII or a character straddles its end', async () => {
    const { text, merchants } = file();
    const path = join(dir, 'events.ndjson');
    const bytes = Buffer.from(text);
    for (const boundary of [CHUNK, 2 * CHUNK, 3 * CHUNK]) expect(bytes.subarray(boundary - 1, boundary + 1).toString()).toBe('é');
    writeFileSync(path, bytes);
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        out += chunk.toString('utf8');
        done();
      },
    });
    const result = await runBacktest(loadConfig({ PAYFLUX_LOG_LEVEL: 'silent' }), { file: path, out: sink });
    expect(result.errors).toEqual([]);
    expect(result.events).toBe(merchants.length);
    const exported = out.trimEnd().split('\n').map((l) => (JSON.parse(l) as { merchant_id_hash: string }).merchant_id_hash);
    expect(exported).toEqual(merchants);
    expect(out).not.toContain('\ufffd');
  });
});
