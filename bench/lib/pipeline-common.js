/**
 * What the consumer-side benches share: PayFlux's environment for a file export, polling, a drained group.
 */
import { GROUP, payfluxEnv } from './context.js';
import { groupState } from './observe.js';
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
  const g = await groupState(ctx.redis, stream, GROUP);
  return g !== undefined && g.pending === 0 && g.lag === 0;
}
