import { describe, expect, it } from 'vitest';
import { createFrames, quantile, statusLines, type LoadgenState } from '../../../src/commands/loadgen-display.js';

const state: LoadgenState = {
  scenario: 'card_testing',
  url: 'http://127.0.0.1:8080',
  elapsedMs: 42_500,
  durationMs: 180_000,
  phase: 'card_testing',
  sent: 25_200,
  accepted: 25_000,
  errors: new Map([
    ['503 PF_ERR_BUFFER_UNAVAILABLE', 150],
    ['ECONNREFUSED', 50],
  ]),
  rate: 598.4,
  latencyMs: [1, 2, 3, 4, 5, 6, 7, 8, 9, 100],
  risk: [
    { processor: 'stripe', band: 'critical', score: 0.912 },
    { processor: 'adyen', band: 'low', score: 0.05 },
  ],
};

/** A terminal `columns` wide that keeps what was written. */
function terminal(columns: number) {
  let written = '';
  const out = { isTTY: true, columns, write: (s: string) => ((written += s), true) };
  return { out: out as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number }, text: () => written };
}

describe('loadgen display', () => {
  it('shows rate, latency percentiles, errors by reason (most first) and every processor’s band', () => {
    expect(statusLines(state, 200)).toEqual([
      'loadgen card_testing → http://127.0.0.1:8080  42s/180s  phase card_testing',
      'sent 25200  accepted 25000  598.4 events/s',
      'latency p50 5.0 ms  p95 100 ms  p99 100 ms',
      'errors 503 PF_ERR_BUFFER_UNAVAILABLE ×150  ECONNREFUSED ×50',
      'stripe     critical 0.91',
      'adyen      low      0.05',
    ]);
  });

  it('cuts every line to the terminal’s width, so none wraps', () => {
    for (const columns of [20, 40, 80])
      for (const line of statusLines(state, columns)) expect(line.length).toBeLessThan(columns);
  });

  it('says why the risk state is unknown instead of showing processors', () => {
    expect(statusLines({ ...state, risk: 'unavailable (ECONNREFUSED)' }, 200).at(-1)).toBe(
      'risk unavailable (ECONNREFUSED)',
    );
  });

  it('redraws in place on a terminal, clearing lines a shorter frame leaves behind', () => {
    const t = terminal(80);
    const frames = createFrames(t.out);
    frames.draw(['a', 'b', 'c']);
    expect(t.text()).toBe('\x1b[2Ka\n\x1b[2Kb\n\x1b[2Kc\n');
    frames.draw(['d']);
    // Up three lines, the new one, the two left over cleared, and back up to just below the frame.
    expect(t.text().slice('\x1b[2Ka\n\x1b[2Kb\n\x1b[2Kc\n'.length)).toBe('\x1b[3F\x1b[2Kd\n\x1b[2K\n\x1b[2K\n\x1b[2F');
  });

  it('prints one line per frame when the output is not a terminal', () => {
    let written = '';
    const frames = createFrames({ write: (s: string) => ((written += s), true) } as unknown as NodeJS.WritableStream);
    frames.draw(['a', 'b']);
    frames.draw(['c']);
    expect(written).toBe('a  |  b\nc\n');
  });

  it('takes nearest-rank quantiles', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([5, 1, 3, 2, 4], 0.99)).toBe(5);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
