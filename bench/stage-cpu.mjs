// Where PayFlux's CPU goes per event, stage by stage, on both sides of the stream: each stage
// runs over the whole data set on its own and is timed with process.cpuUsage() (CPU time, not
// wall time: on a shared machine another tenant's load slows the wall clock, not this), Redis's
// share from INFO commandstats. Everything in one process, one stage at a time, so the figures
// add up without HTTP (its share is the bench's PayFlux CPU per event minus the stages here).
//
//   ingest:   cut + parse  the batch body cut at `},{`, each item JSON.parse'd (http/ingest-bodies)
//             validate     the ingest validator
//             stored form  the proof that an item's text is the stored form (stored as it came)
//             dedup key    SHA-1 of the canonical event id
//             append       the Redis buffer's append: pack, ioredis encode + write, reply (client side)
//   consumer: read         XREADGROUP of the packed entries and their decoding into strings
//             decode       split into events, JSON.parse, envelope (operators/decode-entries)
//             risk         scoreRisk + enrichTier (tier 2)
//             export       the export lines encoded into bytes (sinks/export-line), no write
//             ack          XACK
// GC pauses (PerformanceObserver 'gc') are reported for each side as well: they are inside the
// stages that allocated.
//
// One batch at a time, as PayFlux meets them, so that the live heap (and with it GC) stays that
// of a running PayFlux; the stages of a batch run back to back.
//
// Usage: node --single-threaded --max-semi-space-size=16 bench/stage-cpu.mjs <port of a scratch redis-server> [--events N] [--batch N]  (FLUSHALLs it)
//
// --alloc: also the bytes each stage allocates per event (the heap's growth over the stage, the
// median over the batches without a collection in between; null for a stage most of whose
// batches saw one). Run it on its own, with a young generation large enough that most stages
// see no collection:
//   node --max-semi-space-size=128 bench/stage-cpu.mjs <port> --alloc
import { getHeapStatistics } from 'node:v8';
import { PerformanceObserver } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import pino from 'pino';
import { Subject } from 'rxjs';
import { createRedisBuffer } from '../dist/buffer/redis-buffer.js';
import { dedupKeyFor } from '../dist/buffer/dedup-key.js';
import { createEventValidator } from '../dist/events/validate-event.js';
import { isStoredForm } from '../dist/events/stored-form.js';
import { splitItems } from '../dist/http/ingest-bodies.js';
import { decodeBatch } from '../dist/operators/decode-entries.js';
import { scoreRisk } from '../dist/operators/score-risk.js';
import { enrichTier } from '../dist/operators/enrich-tier.js';
import { createLineEncoder } from '../dist/sinks/export-line.js';
import { newTag, storedPayloads } from './lib/events.js';

const { values: v, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    events: { type: 'string', default: '200000' },
    batch: { type: 'string', default: '500' },
    alloc: { type: 'boolean', default: false },
  },
});
const port = Number(positionals[0]);
const N = Number(v.events);
const BATCH = Number(v.batch);
const url = `redis://127.0.0.1:${port}`;
const redis = new Redis(url);
await redis.flushall();

let gcMs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcMs += e.duration;
}).observe({ entryTypes: ['gc'] });

const stages = {};
/** Bytes allocated per stage and batch (`--alloc`): the heap's growth, kept only when no collection shrank it. */
const allocated = {};
// Run with `node --single-threaded` (as `npm`-less usage below says): V8 then collects garbage
// and compiles on the main thread, so each stage's CPU includes the GC its own allocations
// cause, instead of background threads' CPU landing in whichever stage waits on Redis.
// (`process.threadCpuUsage()` is tick-sampled here: short stages read 0.)
const threadCpu = () => process.cpuUsage();
/** Runs `fn` (synchronous or not), adding its CPU µs (user + system) to `stages[name]`. */
async function timed(name, fn) {
  const h0 = v.alloc ? getHeapStatistics().used_heap_size : 0;
  const c0 = threadCpu();
  const r = await fn();
  const c1 = threadCpu();
  stages[name] = (stages[name] ?? 0) + c1.user - c0.user + c1.system - c0.system;
  if (v.alloc) {
    const grown = getHeapStatistics().used_heap_size - h0;
    const a = (allocated[name] ??= { batches: 0, grown: [] });
    a.batches++;
    if (grown >= 0) a.grown.push(grown);
  }
  return r;
}
const commandUs = async (name) => {
  const m = new RegExp(`cmdstat_${name}:calls=\\d+,usec=(\\d+)`).exec(await redis.info('commandstats'));
  return m ? Number(m[1]) : 0;
};

const buffer = await createRedisBuffer({
  url,
  password: undefined,
  tls: false,
  keyPrefix: 'stage:',
  stream: 'stage:events',
  group: 'g',
  dlqStream: 'stage:dlq',
  dedupWindowSec: 86_400,
  maxLen: 0,
  rawEventTtlDays: 0,
  logger: pino({ level: 'silent' }),
  processors: ['stripe', 'adyen', 'checkout', 'internal'],
});
const validate = createEventValidator({
  processors: ['stripe', 'adyen', 'checkout', 'internal'],
  maxClockSkewSec: Infinity,
});
const now = Date.now();
const tag = newTag();

// Batch by batch, as PayFlux meets them (a live heap of one batch, not of the whole run), each
// stage timed on its own. Ingest first, everything; then the consumer reads it all back.
await redis.config('RESETSTAT');
const gcIngest0 = gcMs;
for (let i = 0; i < N; i += BATCH) {
  const body = `[${storedPayloads(tag, i, Math.min(BATCH, N - i), now - 600_000 + i, 1).join(',')}]`;
  const cut = await timed('ingest: cut + parse', () => splitItems(body, Math.max(1000, BATCH)));
  const valid = await timed('ingest: validate', () => cut.items.map((item) => validate(item, now)));
  await timed('ingest: stored form', () => cut.items.map((item, j) => isStoredForm(cut.texts[j], item)));
  const keys = await timed('ingest: dedup key', () => valid.map((r) => dedupKeyFor(r.event.event_id)));
  await timed('ingest: append (client)', () =>
    buffer.append(cut.texts.map((payload, j) => ({ dedupKey: keys[j], payload, partition: valid[j].event.processor }))),
  );
}
const ingestRedisUs = (await commandUs('evalsha')) + (await commandUs('eval'));
const gcIngest = gcMs - gcIngest0;

await redis.config('RESETSTAT');
const gcConsumer0 = gcMs;
const reader = await buffer.openReader('stage');
const scored = [];
const risk = new Subject();
risk
  .pipe(
    scoreRisk({ model: 'adaptive', thresholds: [0.3, 0.6, 0.8], windowSec: 300, allowedLatenessSec: 30 }),
    enrichTier({ tier: 'tier2', windowSec: 300 }),
  )
  .subscribe((b) => scored.push(b));
const encode = createLineEncoder('stage-cpu');
let exported = 0;
let bytes = 0;
for (;;) {
  const got = await timed('consumer: read (client)', () => reader.read(BATCH, 100));
  if (got.length === 0) break;
  const batch = await timed('consumer: decode', () => decodeBatch(got, { maxDeliveries: 5 }));
  await timed('consumer: risk', () => risk.next(batch));
  const out = scored.pop();
  await timed('consumer: export encode', () => {
    bytes += encode(out.entries, new Date().toISOString()).length;
  });
  await timed('consumer: ack (client)', () => reader.ack(out.ackIds));
  exported += out.entries.length;
}
const consumerRedisUs = (await commandUs('xreadgroup')) + (await commandUs('xack')) + (await commandUs('xpending'));
const gcConsumer = gcMs - gcConsumer0;

await reader.close();
await buffer.close();
redis.disconnect();

const r2 = (x) => Math.round(x * 100) / 100;
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;
const perEvent = Object.fromEntries(Object.entries(stages).map(([k, us]) => [k, r2(us / N)]));
const sum = (prefix) => r2(Object.entries(stages).reduce((s, [k, us]) => (k.startsWith(prefix) ? s + us : s), 0) / N);
console.log(
  JSON.stringify({
    events: N,
    exported,
    batch: BATCH,
    export_bytes: bytes,
    node: process.version,
    cpu_us_per_event: perEvent,
    totals_us_per_event: {
      ingest_node: sum('ingest'),
      ingest_gc_pauses: r2((gcIngest * 1000) / N),
      ingest_redis: r2(ingestRedisUs / N),
      consumer_node: sum('consumer'),
      consumer_gc_pauses: r2((gcConsumer * 1000) / N),
      consumer_redis: r2(consumerRedisUs / N),
    },
    ...(v.alloc && {
      alloc_bytes_per_event: Object.fromEntries(
        // null: most of the stage's batches saw a collection (the read's large strings and
        // buffers bring one on), so no figure.
        Object.entries(allocated).map(([k, a]) => [
          k,
          a.grown.length * 2 < a.batches ? null : Math.round(median(a.grown) / BATCH),
        ]),
      ),
    }),
  }),
);
