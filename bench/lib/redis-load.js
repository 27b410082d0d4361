/**
 * Pipelined XADD from this process (ioredis): Redis's own append ceiling as seen from Node,
 * and the preload of the drain benchmark's backlog. Entries have PayFlux's shape: one field `e`
 * (the event JSON, in the stored form).
 */
import { Redis } from 'ioredis';
import { storedPayloads } from './events.js';

export function connect(port) {
  return new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: false,
    maxRetriesPerRequest: 3,
    connectionName: 'payflux-bench',
  });
}

/**
 * XADD up to `total` events (ids firstId…) to `stream`, `chunk` per pipeline and `inFlight`
 * pipelines at once, stopping early at `deadlineMs` (performance.now() time) if given.
 * Event times run from `startMs` in steps of `stepMs`; `prebuilt` payloads (reused in turn)
 * keep payload building out of a ceiling measurement; `pack` events go in each entry (not with
 * `prebuilt`). Returns { added, seconds }, added in events.
 */
export async function pipelinedXadd(
  redis,
  {
    stream,
    tag,
    firstId = 0,
    total,
    chunk = 1000,
    inFlight = 4,
    startMs,
    stepMs = 1,
    deadlineMs = Infinity,
    prebuilt,
    pack = 1,
    streamOf,
  },
) {
  let next = 0;
  let added = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < total && performance.now() < deadlineMs) {
      const n = Math.min(chunk, total - next);
      const from = next;
      next += n;
      const p = redis.pipeline();
      if (prebuilt) {
        for (let i = 0; i < n; i++) p.xadd(stream, '*', 'e', prebuilt[(from + i) % prebuilt.length]);
      } else {
        const payloads = storedPayloads(tag, firstId + from, n, startMs + from * stepMs, stepMs);
        // PayFlux's packed entries: `pack` events an entry, joined by \n (src/events/packed-entry.ts);
        // with `streamOf`, each stream (a processor's partition) gets its own events' entries.
        const byStream = new Map();
        for (const e of payloads) {
          const s = streamOf === undefined ? stream : streamOf(e);
          const list = byStream.get(s);
          if (list === undefined) byStream.set(s, [e]);
          else list.push(e);
        }
        for (const [s, list] of byStream)
          for (let i = 0; i < list.length; i += pack) p.xadd(s, '*', 'e', list.slice(i, i + pack).join('\n'));
      }
      const res = await p.exec();
      for (const [err] of res) if (err) throw err;
      added += n;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return { added, seconds: (performance.now() - started) / 1000 };
}
