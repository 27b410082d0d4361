/**
 * What the consumer-side benches share: PayFlux's environment for a file export, polling, a drained group.
 */
import { GROUP, payfluxEnv } from './context.js';
import { groupState, partitionStreams } from './observe.js';
import { sleep } from './processes.js';

export function exportEnv(ctx, section, role, file, extra = {}) {
  return payfluxEnv(ctx, section, {
    PAYFLUX_ROLE: role,
    PAYFLUX_EXPORT_MODE: 'file',
    PAYFLUX_EXPORT_FILE: file,
    PAYFLUX_ACK_MODE: 'after_export',
    ...extra,
  });
}

/** Poll `check()` every `everyMs` until it returns a truthy value or `timeoutMs` passes. */
export async function until(check, { everyMs, timeoutMs }) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (performance.now() > deadline) return undefined;
    await sleep(everyMs);
  }
}

export async function drained(ctx, stream) {
  // XINFO's entry counts only: counting the events of what is left (groupState) reads it back,
  // which every 20 ms over several partitions cost the load generator more CPU than PayFlux.
  let seen = false;
  for (const s of await partitionStreams(ctx.redis, stream)) {
    for (const g of await ctx.redis.xinfo('GROUPS', s).catch(() => [])) {
      const f = new Map();
      for (let i = 0; i + 1 < g.length; i += 2) f.set(String(g[i]), g[i + 1]);
      if (f.get('name') !== GROUP) continue;
      seen = true;
      if (Number(f.get('pending')) !== 0) return false;
      // null: entries past the group's position were deleted, Redis cannot say; count them.
      const lag = f.get('lag') ?? (await groupState(ctx.redis, s, GROUP))?.lag;
      if (lag !== 0) return false;
    }
  }
  return seen;
}

/** The run of `runs` (rounds of one variant) with the median `value(run)`. */
export function medianRun(runs, value) {
  const sorted = [...runs].sort((a, b) => value(a) - value(b));
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

/** One row for rounds of a variant: the `median` round's figures, every round's rate and CPU beside them. */
export function roundsRow(rows, median) {
  const rates = rows.map((x) => Math.round(x.value).toLocaleString('en-US')).join(', ');
  return {
    ...median,
    ok: rows.every((x) => x.ok),
    note: `rounds, alternating: ${rates} events/s (the median's figures follow); ${median.note}`,
    details: {
      ...median.details,
      rounds: rows.map((x) => ({ rate: Math.round(x.value), cpuCost: x.details.cpuCost })),
    },
  };
}
