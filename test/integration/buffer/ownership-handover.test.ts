/**
 * A partition lost while this consumer has a batch of it (buffer/ownership.ts): the batch is
 * scored on the state it was read for, which is forgotten only after that batch's commit (refused
 * by the fence), and entries read for a partition given up before they were taken are not
 * handed out at all (the new owner adopted them). In chaos (failover.chaos.ts, SIGSTOP past the
 * lease), either exported a batch scored on an emptied window.
 */
import { describe, expect, it } from 'vitest';
import type { OwnershipHooks, StreamEntry, StreamReader } from '../../../src/buffer/buffer.js';
import { partitionLayout } from '../../../src/buffer/partitions.js';
import { testBuffer } from '../../support/buffer.js';
import { delay, poll } from '../../support/poll.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();
const PROCESSORS = ['stripe', 'adyen'];
const LEASE_MS = 1200;

function recordingHooks(): { hooks: OwnershipHooks; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    hooks: {
      restore: (p) => void calls.push(`restore ${p}`),
      forget: (p) => void calls.push(`forget ${p}`),
      checkpoint: (p) => (calls.push(`checkpoint ${p}`), '{}'),
      takeRecords: () => new Map(),
    },
  };
}

async function setUp(): Promise<{ reader: StreamReader; calls: string[]; steal: (p: string) => Promise<void> }> {
  const { buffer, stream, prefix } = await testBuffer(suite, { processors: PROCESSORS, leaseMs: LEASE_MS });
  const layout = partitionLayout({ processors: PROCESSORS, keyPrefix: prefix, stream, dlqStream: `${prefix}dlq` });
  for (const p of PROCESSORS)
    for (let i = 0; i < 3; i++) await buffer.append([{ dedupKey: `${p}-${i}`, payload: `{"p":"${p}"}`, partition: p }]);
  const { hooks, calls } = recordingHooks();
  const reader = await buffer.openReader('a', hooks);
  // What another consumer's takeover does once it finds the lease free: its own lease, a new epoch.
  const steal = async (name: string): Promise<void> => {
    const p = layout.partitionOf(name);
    if (p === undefined) throw new Error(name);
    await suite.redis.set(p.lease, 'b', 'PX', 60_000);
    await suite.redis.incr(p.epoch);
  };
  return { reader, calls, steal };
}

const partitionOf = (entries: readonly StreamEntry[]): string =>
  PROCESSORS.find((p) => entries.every((e) => e.payload?.includes(`"p":"${p}"`))) ?? 'mixed';

describe('a partition lost while this consumer has a batch of it', { timeout: 20_000 }, () => {
  it('its state is forgotten after that batch’s commit, not under it', async () => {
    const { reader, calls, steal } = await setUp();
    const batch = await reader.read(100, 200);
    const name = partitionOf(batch);
    expect(PROCESSORS).toContain(name);
    await steal(name);
    // A renewal or two (every LEASE_MS / 3) finds the epoch moved on while the batch is scored.
    await delay(LEASE_MS);
    expect(calls).not.toContain(`forget ${name}`);
    await reader.ack(batch.map((e) => e.id));
    expect(calls).toContain(`forget ${name}`);
    // Its commit was refused: nothing of it acknowledged, no checkpoint written for it.
    expect(calls.filter((c) => c === `checkpoint ${name}`)).toEqual([]);
    await reader.close();
  });

  it('entries read for a partition given up before they were taken are not handed out', async () => {
    const { reader, calls, steal } = await setUp();
    const first = await reader.read(100, 200);
    const firstName = partitionOf(first);
    const other = PROCESSORS.find((p) => p !== firstName) as string;
    // The other partition's read lands meanwhile and waits to be taken.
    await delay(300);
    await steal(other);
    await reader.ack(first.map((e) => e.id));
    await poll(
      `${other} given up`,
      () => calls.includes(`forget ${other}`),
      (yes) => yes,
      { timeoutMs: 5000 },
    );
    for (let i = 0; i < 3; i++) {
      const got = await reader.read(100, 100);
      expect(got.filter((e) => e.payload?.includes(`"p":"${other}"`))).toEqual([]);
      await reader.ack(got.map((e) => e.id));
    }
    await reader.close();
  });
});
