/**
 * The risk history: per processor, one summary per 10 s of event time for a bounded span (24 h
 * by default), plus the processor's latest state, in Redis. Written by whoever scores the
 * processor, once per batch; read by the dashboard on any node.
 *
 * Keys, per processor; the hash tag puts both in one cluster slot, so one script may touch both:
 *   <prefix>risk:{<processor>}:ring   string: `slots` fixed records of 24 bytes; the record of
 *                                     slot n (event time ÷ 10 s) lives at offset (n mod slots)·24
 *   <prefix>risk:{<processor>}:live   hash: t = newest event time (ms), j = latest state (JSON)
 *
 * A record, big-endian:
 *
 *    0      4        8          12    13    14    15    16    17  18      20        24
 *    │ slot │ events │ failures │ max │ mxb │ last│ lb  │ trj │ - │ ratio │ drivers │
 *      u32    u32      u32        u8    u8    u8    u8    u8    u8  u16     u32
 *
 * max/last are scores ×100, mxb/lb band ranks, trj a trajectory index, ratio the trajectory ratio
 * ×100 (capped), drivers a bit per DRIVER_BITS entry. The ring is its own retention: a slot
 * overwrites the one `slots` slots older at the same offset, and a record whose slot number is not
 * the one its offset stands for in the asked range is not returned. Both keys expire one
 * retention span after their last write, so a processor that went silent leaves nothing behind.
 * The first write allocates the whole ring, zero-filled, so its size never changes after.
 */
import type { Cluster, Redis } from 'ioredis';
import { luaScript, runScript } from '../buffer/redis-script.js';
import {
  BANDS,
  RISK_DRIVERS,
  TRAJECTORIES,
  type Band,
  type RiskDriverOrStatus,
  type Trajectory,
} from '../risk-terms.js';

export const SLOT_MS = 10_000;
const RECORD = 24;
const U32 = 4_294_967_295;

/**
 * Bit i of a record's drivers field stands for DRIVER_BITS[i]. Records outlive releases: a new
 * driver is appended, never inserted.
 */
export const DRIVER_BITS: readonly RiskDriverOrStatus[] = ['nominal_behavior', 'insufficient_data', ...RISK_DRIVERS];

/** An assessment of a processor: its score and band, why, and where it is heading. */
export interface AssessedState {
  readonly score: number;
  readonly band: Band;
  readonly drivers: readonly RiskDriverOrStatus[];
  readonly trajectory: Trajectory;
  readonly trajectoryRatio: number;
}

/** A slot's counts, and its highest score and that score's band. */
export interface SlotFigures {
  readonly events: number;
  readonly failures: number;
  readonly maxScore: number;
  readonly maxBand: Band;
}

/**
 * One slot's worth of a batch: the events of one processor whose event time falls in it, with
 * the assessment of the last of them in stream order.
 */
export interface SlotSample extends SlotFigures, AssessedState {
  /** Any event time within the slot (epoch ms). */
  readonly atMs: number;
}

/**
 * What one batch says about one processor: the writer's input. Its assessment is that of the
 * processor's last event in the batch: its state now.
 */
export interface RiskSample extends AssessedState {
  readonly processor: string;
  /** Newest event time of the processor in the batch (epoch ms). */
  readonly atMs: number;
  /** One entry per slot the batch's events fall in, usually one or two. */
  readonly slots: readonly SlotSample[];
  /** The segment the failures concentrate in, when the model names one (`{"geo_bucket":"BR"}`). */
  readonly focus: Readonly<Record<string, string>> | null;
}

/** One 10 s slot as stored; the assessment as of the slot's last write. */
export interface RiskPoint extends SlotFigures, AssessedState {
  /** Slot start, epoch ms. */
  readonly t: number;
}

/** A processor's latest state, as the dashboard's tile shows it (wire shape). */
export interface LiveRisk {
  readonly processor: string;
  readonly score: number;
  readonly band: Band;
  readonly drivers: readonly RiskDriverOrStatus[];
  readonly focus: Readonly<Record<string, string>> | null;
  readonly trajectory: Trajectory;
  readonly trajectory_ratio: number;
  /** Newest event time seen (ISO 8601). */
  readonly last_event_at: string;
  /** Wall-clock time of the write (ISO 8601). */
  readonly updated_at: string;
}

export interface RiskHistoryOptions {
  /** A connection owned by the caller; standalone or Cluster. */
  readonly redis: Redis | Cluster;
  /** The deployment's key prefix (`config.buffer.keyPrefix`). */
  readonly keyPrefix: string;
  /** How much history each processor keeps (PAYFLUX_RISK_HISTORY_HOURS). */
  readonly hours: number;
  /** Wall clock, epoch ms (`updated_at`). */
  readonly now?: () => number;
}

export interface RiskHistory {
  /** Span kept, ms. */
  readonly retentionMs: number;
  /**
   * Merge one processor's batch summary into its slots (events and failures add up, the maximum
   * stays the maximum, the rest is the newer state) and make it the processor's live state unless
   * a newer one is stored. One script call on the processor's cluster slot, O(slots touched).
   */
  record(sample: RiskSample): Promise<void>;
  /** The stored slots with a start in [fromMs, toMs], oldest first; at most one retention span. */
  read(processor: string, fromMs: number, toMs: number): Promise<RiskPoint[]>;
  /** The processor's latest state, undefined when it has none within the retention span. */
  live(processor: string): Promise<LiveRisk | undefined>;
}

const SLOT_ARGS = 10;

const RECORD_LUA = luaScript<number>(
  'risk_history_record',
  `
local n, ttl = tonumber(ARGV[1]), tonumber(ARGV[2])
-- The whole ring at once, at its exact size: growing it write by write would over-allocate ×2.
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SETRANGE', KEYS[1], n * ${RECORD} - 1, '\\0') end
local written = 0
for i = 5, #ARGV, ${SLOT_ARGS} do
  local slot = tonumber(ARGV[i])
  local ev, fl, mx, mb = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  local off = (slot % n) * ${RECORD}
  local old = redis.call('GETRANGE', KEYS[1], off, off + ${RECORD - 1})
  local write = true
  if #old == ${RECORD} then
    local s, e, f, m, b = struct.unpack('>I4I4I4BB', old)
    if s == slot then
      ev = math.min(ev + e, ${U32})
      fl = math.min(fl + f, ${U32})
      if m > mx then mx = m end
      if b > mb then mb = b end
    elseif s > slot then
      write = false
    end
  end
  if write then
    redis.call('SETRANGE', KEYS[1], off, struct.pack('>I4I4I4BBBBBBHI4', slot, ev, fl, mx, mb, tonumber(ARGV[i + 5]),
      tonumber(ARGV[i + 6]), tonumber(ARGV[i + 7]), 0, tonumber(ARGV[i + 8]), tonumber(ARGV[i + 9])))
    written = written + 1
  end
end
redis.call('PEXPIRE', KEYS[1], ttl)
local t = redis.call('HGET', KEYS[2], 't')
if not t or tonumber(t) <= tonumber(ARGV[3]) then redis.call('HSET', KEYS[2], 't', ARGV[3], 'j', ARGV[4]) end
redis.call('PEXPIRE', KEYS[2], ttl)
return written`,
);

const BAND_INDEX = new Map<string, number>(BANDS.map((b, i) => [b, i]));
const TRAJECTORY_INDEX = new Map<string, number>(TRAJECTORIES.map((t, i) => [t, i]));
const DRIVER_INDEX = new Map<string, number>(DRIVER_BITS.map((d, i) => [d, i]));

const pct = (score: number): number => Math.min(100, Math.max(0, Math.round(score * 100)));

function driverMask(drivers: readonly RiskDriverOrStatus[]): number {
  let mask = 0;
  for (const d of drivers) {
    const i = DRIVER_INDEX.get(d);
    if (i !== undefined && i < 32) mask = (mask | (1 << i)) >>> 0;
  }
  return mask;
}

function driversOf(mask: number): RiskDriverOrStatus[] {
  const out: RiskDriverOrStatus[] = [];
  for (let i = 0; i < DRIVER_BITS.length && i < 32; i++) {
    const d = DRIVER_BITS[i];
    if (d !== undefined && (mask & (1 << i)) !== 0) out.push(d);
  }
  return out;
}

function decode(buf: Buffer, at: number, slot: number): RiskPoint | undefined {
  if (buf.length < at + RECORD || buf.readUInt32BE(at) !== slot) return undefined;
  return {
    t: slot * SLOT_MS,
    events: buf.readUInt32BE(at + 4),
    failures: buf.readUInt32BE(at + 8),
    maxScore: buf.readUInt8(at + 12) / 100,
    maxBand: BANDS[buf.readUInt8(at + 13)] ?? 'low',
    score: buf.readUInt8(at + 14) / 100,
    band: BANDS[buf.readUInt8(at + 15)] ?? 'low',
    trajectory: TRAJECTORIES[buf.readUInt8(at + 16)] ?? 'stable',
    trajectoryRatio: buf.readUInt16BE(at + 18) / 100,
    drivers: driversOf(buf.readUInt32BE(at + 20)),
  };
}

export function createRiskHistory(o: RiskHistoryOptions): RiskHistory {
  const { redis } = o;
  const slots = Math.max(1, Math.round((o.hours * 3_600_000) / SLOT_MS));
  const retentionMs = slots * SLOT_MS;
  const now = o.now ?? Date.now;
  const keyOf = (processor: string): string => `${o.keyPrefix}risk:{${processor}}`;

  return {
    retentionMs,

    async record(s) {
      const k = keyOf(s.processor);
      const live: LiveRisk = {
        processor: s.processor,
        score: s.score,
        band: s.band,
        drivers: s.drivers,
        focus: s.focus,
        trajectory: s.trajectory,
        trajectory_ratio: s.trajectoryRatio,
        last_event_at: new Date(s.atMs).toISOString(),
        updated_at: new Date(now()).toISOString(),
      };
      const args: (string | number)[] = [slots, retentionMs, Math.trunc(s.atMs), JSON.stringify(live)];
      for (const x of s.slots) {
        args.push(
          Math.floor(x.atMs / SLOT_MS),
          Math.min(U32, x.events),
          Math.min(U32, x.failures),
          pct(x.maxScore),
          BAND_INDEX.get(x.maxBand) ?? 0,
          pct(x.score),
          BAND_INDEX.get(x.band) ?? 0,
          TRAJECTORY_INDEX.get(x.trajectory) ?? 1,
          Math.min(65_535, Math.max(0, Math.round(x.trajectoryRatio * 100))),
          driverMask(x.drivers),
        );
      }
      await runScript(redis, RECORD_LUA, [`${k}:ring`, `${k}:live`], args);
    },

    async read(processor, fromMs, toMs) {
      const last = Math.floor(toMs / SLOT_MS);
      const first = Math.max(Math.ceil(fromMs / SLOT_MS), last - slots + 1);
      const count = last - first + 1;
      if (count <= 0) return [];
      const key = `${keyOf(processor)}:ring`;
      const start = first % slots;
      // One GETRANGE, or two when the range wraps around the end of the ring.
      const headCount = Math.min(count, slots - start);
      const parts = [redis.getrangeBuffer(key, start * RECORD, (start + headCount) * RECORD - 1)];
      if (headCount < count) parts.push(redis.getrangeBuffer(key, 0, (count - headCount) * RECORD - 1));
      const [head, tail] = await Promise.all(parts);
      const out: RiskPoint[] = [];
      for (let i = 0; i < count; i++) {
        const p =
          i < headCount
            ? head && decode(head, i * RECORD, first + i)
            : tail && decode(tail, (i - headCount) * RECORD, first + i);
        if (p !== undefined) out.push(p);
      }
      return out;
    },

    async live(processor) {
      const json = await redis.hget(`${keyOf(processor)}:live`, 'j');
      return json === null ? undefined : (JSON.parse(json) as LiveRisk);
    },
  };
}
