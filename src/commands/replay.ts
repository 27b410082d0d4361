/**
 * `payflux replay --since`: re-export stored events from the retention window, oldest first,
 * through the same decode and serialisation as the live pipeline, at most `count` of them. Reads
 * pages with XRANGE and touches no consumer group: replay never acknowledges or claims anything.
 * Redis is tried once: an operator command fails fast (BufferUnavailableError) rather than wait.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { connectBuffer } from '../buffer/connect.js';
import type { EventBuffer } from '../buffer/buffer.js';
import { decodeBatch } from '../operators/decode-entries.js';
import { createLineEncoder } from '../sinks/export-line.js';
import type { Envelope } from '../pipeline/types.js';

const PAGE = 1000;

/** `2026-01-01T00:00:00Z`, or a duration back from now: `90s`, `15m`, `2h`, `7d`. */
export function parseSince(value: string, nowMs: number): number | undefined {
  const d = /^(\d+)([smhd])$/.exec(value);
  if (d)
    return nowMs - Number(d[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[d[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(value);
  return Number.isNaN(t) ? undefined : t;
}

/** The stored events' buffer for an operator command: Redis (also for `auto`), tried once. */
export function operatorBuffer(config: Config, logger: Logger): Promise<EventBuffer> {
  const kind = config.buffer.kind === 'auto' ? 'redis' : config.buffer.kind;
  return connectBuffer({ ...config, buffer: { ...config.buffer, kind } }, { logger, attempts: 1 });
}

export async function runReplay(
  config: Config,
  o: { sinceMs: number; count?: number; logger: Logger; out: NodeJS.WritableStream },
): Promise<number> {
  const buffer = await operatorBuffer(config, o.logger);
  const encode = createLineEncoder(`replay-${config.consumer.name}`);
  const limit = o.count ?? Infinity;
  let total = 0;
  try {
    // Partition by partition, each in its stream order.
    for (const partition of buffer.partitions) {
      let after: string | undefined;
      while (total < limit) {
        const page = await buffer.range(o.sinceMs, after, Math.min(PAGE, limit - total), partition);
        if (page.length === 0) break;
        after = page[page.length - 1]?.id;
        const decoded = decodeBatch(page, { maxDeliveries: Infinity }).entries;
        const envs: readonly Envelope[] = decoded.length <= limit - total ? decoded : decoded.slice(0, limit - total);
        // The encoder reuses its buffer: wait for the write before encoding the next page.
        const chunk = encode(envs, new Date().toISOString());
        await new Promise<void>((resolve, reject) => o.out.write(chunk, (err) => (err ? reject(err) : resolve())));
        total += envs.length;
      }
    }
  } finally {
    await buffer.close();
  }
  return total;
}
