#!/usr/bin/env node
/**
 * In-process benchmark of the risk stage (risk window + enrichment ≤ 400 ns/event).
 *
 *   npx tsc -p tsconfig.build.json && node bench/risk.mjs [--quick] [--model adaptive|classic] [--marks]
 *
 * Pushes batches of 500 envelopes through `scoreRisk` and `enrichTier` (tier 2, the costlier
 * tier) exactly as the pipeline composes them, over a realistic mix: 4 processors, events
 * spread over 15 minutes of event time (so that each processor's baseline, segment cells and
 * sequential test are past their warm-up for most of the run, as on a live node), ~10% failures
 * with timeouts and auth failures among them, 12 geos, retries, and a timeout outage on one
 * processor in the last third. Each round is a fresh
 * subscription (fresh windows). Prints per-round figures, then one JSON line: the median CPU
 * ns per event (and the best round), and the same pass through an identity stage as the floor
 * the harness itself costs.
 *
 * `--marks` calls `os.uptime()` right before the first measured round and right after the last,
 * so that callgrind dumps the measured rounds apart (instruction counts, immune to a shared
 * machine's noise; bench/README.md, _The risk stage_):
 *
 *   valgrind --tool=callgrind --dump-before='node::os::GetUptime*' \
 *     ./node_modules/.bin/node --single-threaded bench/risk.mjs --quick --marks
 *
 * Part 2 of the output (`callgrind.out.<pid>.2`) is the measured rounds, identity stages
 * included (a few instructions an event).
 */
import { from, map } from 'rxjs';
import { cpus, uptime } from 'node:os';
import { scoreRisk } from '../dist/operators/score-risk.js';
import { enrichTier } from '../dist/operators/enrich-tier.js';
import { toPaymentEvent } from '../dist/events/payment-event.js';

const quick = process.argv.includes('--quick');
const marks = process.argv.includes('--marks');
const modelArg = process.argv.indexOf('--model');
const model = modelArg > 0 ? process.argv[modelArg + 1] : 'adaptive';
const EVENTS = quick ? 100_000 : 400_000;
const ROUNDS = quick ? 5 : 9;
const BATCH = 500;

let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
  return seed / 0x80000000;
};
const PROCESSORS = ['stripe', 'adyen', 'checkout', 'internal'];
const GEOS = ['US', 'GB', 'CA', 'DE', 'FR', 'AU', 'NL', 'ES', 'IT', 'SE', 'BR', 'MX'];
const DECLINES = ['card_declined', 'insufficient_funds', 'do_not_honor', 'expired_card'];
const T0 = Date.UTC(2024, 0, 1);
const SPAN_MS = 15 * 60_000;
/** Event time of the i-th event's stream id: evenly over SPAN_MS whatever the event count. */
const idMsOf = (i) => T0 + Math.floor((i * SPAN_MS) / EVENTS);

function envelope(i) {
  const at = idMsOf(i) + Math.floor(rand() * 200);
  const u = rand();
  // The last third: `internal` goes through a timeout outage, so elevated bands and tier 2
  // sentences are part of the mix.
  const outage = i % 4 === 3 && i > (EVENTS * 2) / 3 && u < 0.9;
  const failed = outage || u < 0.1;
  const category = !failed
    ? undefined
    : outage || u < 0.01
      ? 'gateway_timeout'
      : u < 0.02
        ? 'authentication_required'
        : DECLINES[i % 4];
  const event = toPaymentEvent({
    event_id: `evt_${i}`,
    event_timestamp: new Date(at).toISOString(),
    event_type: failed ? 'payment_failed' : 'payment_succeeded',
    processor: PROCESSORS[i % 4],
    merchant_id_hash: `m_${i % 97}`,
    failure_category: category,
    geo_bucket: GEOS[Math.floor(rand() * rand() * GEOS.length)],
    retry_count: failed && rand() < 0.4 ? 1 + Math.floor(rand() * 3) : 0,
  });
  // With the id's numbers, as decode hands them over (it reads them once per entry).
  return {
    id: `${idMsOf(i)}-${i}`,
    idMs: idMsOf(i),
    idSeq: i,
    event,
    eventJson: undefined,
    eventTimeMs: at,
    ingestedAtMs: at,
    deliveries: 1,
    risk: undefined,
    tier: undefined,
  };
}

const batches = [];
for (let i = 0; i < EVENTS; i += BATCH) {
  const entries = [];
  for (let j = i; j < Math.min(EVENTS, i + BATCH); j++) entries.push(envelope(j));
  batches.push({ entries, dead: [], ackIds: entries.map((e) => e.id) });
}

/**
 * One pass over every batch through a fresh subscription (fresh windows); returns ns/event of
 * this process's CPU time and of wall time. CPU time is what other processes on a shared 2-core
 * machine disturb least; it also bills V8's background GC threads, so a round that inherits a
 * collection reads high, which is why the median of several rounds is reported.
 */
function round(...operators) {
  let n = 0;
  const cpu = process.cpuUsage();
  const wall = process.hrtime.bigint();
  from(batches)
    .pipe(...operators)
    .subscribe({ next: (b) => (n += b.entries.length) });
  const wallNs = Number(process.hrtime.bigint() - wall);
  const used = process.cpuUsage(cpu);
  if (n !== EVENTS) throw new Error(`expected ${EVENTS} events, saw ${n}`);
  return { cpu: ((used.user + used.system) * 1000) / EVENTS, wall: wallNs / EVENTS };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const risk = () => [
  scoreRisk({ model, windowSec: 300, allowedLatenessSec: 30, thresholds: [0.3, 0.6, 0.8] }),
  enrichTier({ tier: 'tier2', windowSec: 300 }),
];
const identity = () => [map((b) => b)];

for (let i = 0; i < 3; i++) round(...risk()); // warm-up: JIT, inline caches
const riskRounds = [];
const floorRounds = [];
if (marks) uptime();
for (let i = 0; i < ROUNDS; i++) {
  const r = round(...risk());
  const f = round(...identity());
  riskRounds.push(r);
  floorRounds.push(f);
  console.log(
    `round ${i + 1}: ${r.cpu.toFixed(1)} ns/event CPU, ${r.wall.toFixed(1)} wall (identity stage ${f.cpu.toFixed(1)} CPU)`,
  );
}
if (marks) uptime();
// Stamp the last batch once more, so the sample shows what the stages wrote.
round(...risk());
const sample = batches.at(-1).entries.findLast((e) => e.event.processor === 'internal');
console.log(`sample (internal, in its outage): ${JSON.stringify(sample.risk)} ${JSON.stringify(sample.tier)}`);
const tenth = (x) => Math.round(x * 10) / 10;
console.log(
  JSON.stringify({
    ns_per_event: tenth(median(riskRounds.map((r) => r.cpu))),
    best_round_ns_per_event: tenth(Math.min(...riskRounds.map((r) => r.cpu))),
    wall_ns_per_event: tenth(median(riskRounds.map((r) => r.wall))),
    identity_ns_per_event: tenth(median(floorRounds.map((r) => r.cpu))),
    model,
    events: EVENTS,
    rounds: ROUNDS,
    cpus: cpus().length,
    cpu: cpus()[0]?.model,
    node: process.version,
  }),
);
