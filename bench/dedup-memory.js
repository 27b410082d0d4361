// Measures the Redis memory one accepted event costs: its share of a packed stream entry (1,000
// events an append, as one micro-batch of that size stores them) and its dedup mark (a member of
// the current dedup bucket's set).
// Usage: node bench/dedup-memory.js <port of a scratch redis-server> (it FLUSHALLs that server).
import { Redis } from 'ioredis';
import pino from 'pino';
import { createRedisBuffer } from '../dist/buffer/redis-buffer.js';
import { dedupKeyFor } from '../dist/buffer/dedup-key.js';
const port = process.argv[2];
const r = new Redis(`redis://127.0.0.1:${port}`);
await r.flushall();
const b = await createRedisBuffer({
  url: `redis://127.0.0.1:${port}`,
  keyPrefix: 'payflux:',
  stream: 'events_stream',
  group: 'payment_consumers',
  dlqStream: 'dlq',
  dedupWindowSec: 86400,
  maxLen: 0,
  rawEventTtlDays: 7,
  logger: pino({ level: 'silent' }),
});
const mem = async () => Number(/used_memory:(\d+)/.exec(await r.info('memory'))[1]);
const m0 = await mem();
const N = 200000;
const ts = new Date().toISOString();
for (let i = 0; i < N; i += 1000) {
  const items = [];
  for (let j = i; j < i + 1000; j++) {
    const ev = {
      event_id: `evt_3MtwBwLkdIwHu7ix${String(j).padStart(8, '0')}`,
      event_timestamp: ts,
      event_type: 'payment_failed',
      processor: 'stripe',
      merchant_id_hash: 'm_9f2c81aa',
      failure_category: 'card_declined',
      geo_bucket: 'US',
      retry_count: 1,
    };
    items.push({ dedupKey: dedupKeyFor(ev.event_id), payload: JSON.stringify(ev) });
  }
  await b.append(items);
}
const m1 = await mem();
const entries = await r.xlen('events_stream');
await r.del('events_stream');
const m2 = await mem();
console.log(
  JSON.stringify({
    events: N,
    total_bytes_per_event: (m1 - m0) / N,
    dedup_bytes_per_event: (m2 - m0) / N,
    stream_bytes_per_event: (m1 - m2) / N,
    stream_entries: entries,
    dedup_buckets: (await r.keys('payflux:d:bucket:*')).length,
  }),
);
await b.close();
r.disconnect();
