/**
 * PayFlux on a Redis Cluster (3 masters + 3 replicas): partitions spread over the masters, every
 * event accepted is stored in its processor's partition and exported once by one in-process
 * node (role `all`), which then closes. Ground truth with processes: ground-truth.test.ts.
 * Replica acknowledgement: wait-replicas.test.ts, and on a Cluster with a master killed in
 * `npm run chaos:cluster`.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { connectClient, createRedisClient, duplicateClient } from '../../../src/buffer/redis-client.js';
import { loadConfig } from '../../../src/config.js';
import { start, type Running } from '../../../src/main.js';
import { partitionLayout } from '../../../src/buffer/partitions.js';
import { event } from '../../support/events.js';
import { poll } from '../../support/poll.js';
import { streamEvents } from '../../support/probes.js';
import { useRedisCluster } from '../../support/redis-cluster.js';
import { post, TEST_KEY } from '../../support/app.js';

const suite = useRedisCluster();
const PROCESSORS = ['stripe', 'adyen', 'checkout', 'internal'];

async function startOnCluster(env: Record<string, string> = {}): Promise<{ running: Running; lines: string[] }> {
  const lines: string[] = [];
  let rest = '';
  const stdout = new Writable({
    write(chunk: Buffer, _e, done) {
      const parts = (rest + chunk.toString()).split('\n');
      rest = parts.pop() ?? '';
      lines.push(...parts.filter((p) => p !== ''));
      done();
    },
  });
  const config = loadConfig({
    HTTP_ADDR: '127.0.0.1:0',
    // One seed, as operators often give: every other node's connection is made after the slot
    // map arrives, which is when a ready check can find one still connecting.
    REDIS_CLUSTER_NODES: suite.cluster.nodes[0]?.addr ?? '',
    PAYFLUX_API_KEYS: TEST_KEY,
    PAYFLUX_KEY_PREFIX: suite.prefix,
    PAYFLUX_STREAM: `${suite.prefix}events`,
    PAYFLUX_DLQ_STREAM: `${suite.prefix}dlq`,
    PAYFLUX_PROCESSORS: PROCESSORS.join(','),
    PAYFLUX_LOG_LEVEL: 'silent',
    PAYFLUX_READ_BLOCK_MS: '100',
    ...env,
  });
  const running = await start(config, { logger: pino({ level: 'silent' }), stdout });
  return { running, lines };
}

describe('on a Redis Cluster', { timeout: 60_000 }, () => {
  it('spreads the default processors’ partitions over every master', async () => {
    const layout = partitionLayout({ processors: PROCESSORS, keyPrefix: 'payflux:', stream: 's', dlqStream: 'd' });
    const owners = new Set<number>();
    for (const p of layout.partitions) owners.add((await suite.cluster.masterOf(p.slot)).port);
    expect(owners.size).toBe(3);
  });

  it('stores each event in its processor’s partition and exports every one once', async () => {
    const { running, lines } = await startOnCluster();
    try {
      const events = Array.from({ length: 200 }, (_, i) => event({ processor: PROCESSORS[i % 4] }));
      const res = await post(`${running.url}/v1/events/batch`, events);
      expect(res.status).toBe(200);
      const layout = partitionLayout({
        processors: PROCESSORS,
        keyPrefix: suite.prefix,
        stream: `${suite.prefix}events`,
        dlqStream: `${suite.prefix}dlq`,
      });
      for (const p of layout.partitions) expect(await streamEvents(suite.redis, p.stream)).toBe(50);
      await poll(
        'every event exported',
        () => lines.length,
        (n) => n >= 200,
        { timeoutMs: 20_000 },
      );
      const ids = lines.map((l) => (JSON.parse(l) as { event_id: string }).event_id);
      expect(new Set(ids).size).toBe(200);
      expect(ids.sort()).toEqual(events.map((e) => e.event_id as string).sort());
    } finally {
      const closing = Date.now();
      await running.close();
      expect(Date.now() - closing).toBeLessThan(10_000);
    }
  });

  it('connects a partition reader’s own Cluster connection from one seed, every time', async () => {
    const seed = suite.cluster.nodes[0]?.addr ?? '';
    const shared = createRedisClient({ url: '', clusterNodes: [seed], password: undefined, tls: false });
    shared.on('error', () => undefined);
    await connectClient(shared);
    try {
      for (let i = 0; i < 5; i++) {
        // As redis-reader.ts asks for it. Without the Cluster's offline queue, the ready check
        // (CLUSTER INFO to any master) fails on a node connection still being made, ioredis
        // reconnects by itself, and its connect() promise never settles.
        const conn = duplicateClient(shared, { connectionName: 'payflux-test', enableOfflineQueue: false });
        conn.on('error', () => undefined);
        try {
          let timer: NodeJS.Timeout | undefined;
          const outcome = await Promise.race([
            connectClient(conn).then(() => 'ready'),
            new Promise<string>((resolve) => {
              timer = setTimeout(() => resolve('no answer in 5 s'), 5000);
            }),
          ]).finally(() => clearTimeout(timer));
          expect(outcome).toBe('ready');
          expect(await conn.ping()).toBe('PONG');
        } finally {
          conn.disconnect();
        }
      }
    } finally {
      shared.disconnect();
    }
  });
});
