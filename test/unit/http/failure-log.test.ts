import { Writable } from 'node:stream';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createFailureLog } from '../../../src/http/failure-log.js';

function capture(): { logger: pino.Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, stream), lines };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('createFailureLog', () => {
  it('writes one summary line per interval with counts per code, none for a quiet interval', async () => {
    const { logger, lines } = capture();
    const log = createFailureLog(logger, { intervalMs: 10_000 });
    for (let i = 0; i < 20_000; i++) log.expected(i % 4 === 0 ? 'PF_ERR_OVERLOADED' : 'PF_ERR_BUFFER_UNAVAILABLE');
    await vi.advanceTimersByTimeAsync(10_000);
    await vi.advanceTimersByTimeAsync(10_000);
    log.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(lines.map((l) => [l.msg, l.counts])).toEqual([
      ['request_failures_summary', { PF_ERR_OVERLOADED: 5000, PF_ERR_BUFFER_UNAVAILABLE: 15_000 }],
    ]);
  });

  it('logs unexpected errors with their stack at most maxDetailed times an interval and counts the rest', async () => {
    const { logger, lines } = capture();
    const log = createFailureLog(logger, { intervalMs: 10_000, maxDetailed: 2 });
    for (let i = 0; i < 5; i++) log.unexpected(new Error(`boom ${i}`), `req-${i}`);
    await vi.advanceTimersByTimeAsync(10_000);
    log.unexpected(new Error('later'), 'req-9');
    log.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(lines.map((l) => l.msg)).toEqual([
      'request_failed',
      'request_failed',
      'request_failures_summary',
      'request_failed',
      'request_failures_summary',
    ]);
    expect((lines[0]?.err as { stack?: string }).stack).toContain('boom 0');
    expect(lines[2]).toMatchObject({ counts: { PF_ERR_INTERNAL: 5 }, unexpected_not_logged: 3 });
    expect(lines[4]).toMatchObject({ counts: { PF_ERR_INTERNAL: 1 } });
  });
});
