// Ceilings the throughput targets meet on this machine before any PayFlux code runs: the
// per-event cost of work the design cannot skip, measured here, turned into events/s.
//
//   Redis, per event (server CPU from INFO commandstats, 500 events per call):
//     append   PayFlux's dedup + append script (two SMISMEMBER, one SADD, one XADD of the
//              500 events packed in one entry, atomic)
//     xadd     the packed XADD alone, in the same kind of script (what dedup adds is the difference)
//     read     XREADGROUP of those entries, per event
//     ack      XACK of their ids, per event
//   Node, per event (this process, best of 5 rounds):
//     parse    JSON.parse of a stored event (the consumer must read what it exports)
//     validate the ingest validator on a parsed event (rules, compiled schema)
//
// Ceilings (events/s), each assuming everything else is free:
//   batch ingest  1 / append            Redis is one thread; every accepted event pays it
//   end to end    1 / (append+read+ack) the same thread stores and serves every event
//   drain         1 / (read+ack+parse)  one batch in flight: Redis and the
//                                       consumer take turns, their times add up
//   backtest      2 / (parse+validate)  every line parsed and validated once, on the two cores
//                                       (the reader thread and, for one line in six, the main thread)
//
// Usage: node bench/floors.mjs <port of a scratch redis-server> [--quick]  (FLUSHALLs it)
import { Redis } from 'ioredis';
import { APPEND_PACKED_SCRIPT } from '../dist/buffer/lua.js';
import { dedupKeyFor } from '../dist/buffer/dedup-key.js';
import { createEventValidator } from '../dist/events/validate-event.js';
import { storedPayloads } from './lib/events.js';

const port = Number(process.argv[2]);
const quick = process.argv.includes('--quick');
const N = quick ? 50_000 : 200_000;
const BATCH = 500;
const redis = new Redis({ host: '127.0.0.1', port });
const payloads = storedPayloads('floors00', 0, N, Date.now() - 600_000, 600_000 / N);

function bestNsPerEvent(fn) {
  let best = Infinity;
  for (let r = 0; r < 5; r++) {
    const t0 = process.hrtime.bigint();
    fn();
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / N);
  }
  return best;
}

let sink = 0;
const parseNs = bestNsPerEvent(() => {
  for (const p of payloads) sink += JSON.parse(p).retry_count;
});
const bodies = payloads.map((p) => JSON.parse(p));
const validate = createEventValidator({
  processors: ['stripe', 'adyen', 'checkout', 'internal'],
  maxClockSkewSec: Infinity,
});
const validateNs = bestNsPerEvent(() => {
  for (const b of bodies) sink += validate(b, Date.now()).ok ? 1 : 0;
});

const XADD_ONLY = `
redis.call('XADD', KEYS[1], '*', 'e', ARGV[2])
return {1}
`;

/** Server µs per event of `script` over all payloads, 500 per EVALSHA (one packed entry each), into `stream`. */
async function scriptUs(script, stream, keyPrefix) {
  const sha = await redis.script('LOAD', script);
  await redis.config('RESETSTAT');
  for (let i = 0; i < N; i += BATCH) {
    const n = Math.min(BATCH, N - i);
    const keys = [stream, `${keyPrefix}1`, `${keyPrefix}0`, `${keyPrefix}-1`];
    const members = [];
    for (let j = 0; j < n; j++) members.push(dedupKeyFor(`floors-${i + j}`));
    const argv = [172_800, payloads.slice(i, i + n).join('\n'), members.join(',')];
    await redis.evalsha(sha, keys.length, ...keys, ...argv);
  }
  return (await commandUs('evalsha')) / N;
}

async function commandUs(name) {
  const m = new RegExp(`cmdstat_${name}:calls=\\d+,usec=(\\d+)`).exec(await redis.info('commandstats'));
  return m ? Number(m[1]) : NaN;
}

await redis.flushall();
const appendUs = await scriptUs(APPEND_PACKED_SCRIPT.lua, 'floors:append', 'floors:d:');
const xaddUs = await scriptUs(XADD_ONLY, 'floors:xadd', 'floors:x:');

await redis.xgroup('CREATE', 'floors:append', 'g', '0');
await redis.config('RESETSTAT');
let read = 0;
for (;;) {
  const reply = await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 1, 'STREAMS', 'floors:append', '>');
  const entries = reply?.[0]?.[1] ?? [];
  if (entries.length === 0) break;
  for (const [, fields] of entries) read += fields[1].split('\n').length;
  await redis.xack('floors:append', 'g', ...entries.map(([id]) => id));
}
const readUs = (await commandUs('xreadgroup')) / read;
const ackUs = (await commandUs('xack')) / read;
await redis.flushall();
redis.disconnect();

const us = (ns) => ns / 1000;
const ceiling = (perEventUs) => Math.round(1e6 / perEventUs);
const r2 = (x) => Math.round(x * 100) / 100;
console.log(
  JSON.stringify({
    events: N,
    read,
    per_event_us: {
      append: r2(appendUs),
      xadd: r2(xaddUs),
      read: r2(readUs),
      ack: r2(ackUs),
      parse: r2(us(parseNs)),
      validate: r2(us(validateNs)),
    },
    ceilings: {
      batch: ceiling(appendUs),
      e2e: ceiling(appendUs + readUs + ackUs),
      drain: ceiling(readUs + ackUs + us(parseNs)),
      backtest: ceiling(us(parseNs + validateNs) / 2),
    },
    sink: sink > 0,
  }),
);
