/**
 * `payflux dlq list|replay|purge`: the dead-letter stream, for an operator. Redis is tried once
 * (`operatorBuffer`): an unreachable one is a BufferUnavailableError at once, not a wait.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { operatorBuffer } from './replay.js';

export const DLQ_ACTIONS = ['list', 'replay', 'purge'] as const;
export type DlqAction = (typeof DLQ_ACTIONS)[number];

/** Runs `action`; JSON lines (list) go to `out`, what was done to `log`. */
export async function runDlq(
  config: Config,
  action: DlqAction,
  o: { count: number; logger: Logger; out: NodeJS.WritableStream; log: (line: string) => void },
): Promise<void> {
  const buffer = await operatorBuffer(config, o.logger);
  try {
    switch (action) {
      case 'list':
        for (const e of await buffer.dlqList(o.count))
          o.out.write(
            `${JSON.stringify({ dlq_id: e.dlqId, original_id: e.originalId, reason: e.reason, timestamp: e.timestamp, data: e.data })}\n`,
          );
        return;
      case 'replay':
        o.log(`replayed ${await buffer.dlqReplay(o.count)} entries into the stream`);
        return;
      case 'purge':
        o.log(`purged ${await buffer.dlqPurge()} entries`);
        return;
    }
  } finally {
    await buffer.close();
  }
}
