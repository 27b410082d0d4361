import { describe, expect, it } from 'vitest';
import { readCapped } from '../../../src/risk-api/read-capped.js';

/** An endless body that records how many chunks were pulled and whether it was closed. */
function endless(chunkSize: number) {
  const state = { pulled: 0, closed: false };
  async function* gen() {
    try {
      for (;;) {
        state.pulled += 1;
        yield new Uint8Array(chunkSize).fill(97);
      }
    } finally {
      state.closed = true;
    }
  }
  return { body: gen(), state };
}

describe('readCapped', () => {
  it('stops pulling at the cap and closes the body', async () => {
    const { body, state } = endless(1000);
    const r = await readCapped(body, 2_500);
    expect(r.bytes.length).toBe(2_500);
    expect(r.truncated).toBe(true);
    expect(state.pulled).toBe(3);
    expect(state.closed).toBe(true);
  });

  it('reads a body that fits whole, including one of exactly the cap', async () => {
    async function* two() {
      yield Buffer.from('hello ');
      yield 'world';
    }
    expect(await readCapped(two(), 100)).toEqual({ bytes: Buffer.from('hello world'), truncated: false });
    expect((await readCapped(two(), 11)).truncated).toBe(false);
    expect(await readCapped(two(), 8)).toEqual({ bytes: Buffer.from('hello wo'), truncated: true });
  });
});
