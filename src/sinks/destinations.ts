/**
 * Where export lines go. A destination takes one string per batch and resolves once the bytes
 * are handed to the OS (the write callback / the file write), which is what ack-after-export
 * waits for. Awaiting each write is also the backpressure: a slow reader of stdout slows the
 * consumer, and the next XREADGROUP waits.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';

export type DestinationName = 'stdout' | 'file';

export interface Destination {
  readonly name: DestinationName;
  write(chunk: string): Promise<void>;
  reopen(): Promise<void>;
  close(): Promise<void>;
}

export function createStreamDestination(name: DestinationName, stream: NodeJS.WritableStream): Destination {
  return {
    name,
    write: (chunk) =>
      new Promise((resolve, reject) => {
        stream.write(chunk, (err) => (err ? reject(err) : resolve()));
      }),
    reopen: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}

/**
 * A file in append mode. Opened lazily and again after any failure or on `reopen()` (SIGHUP),
 * all on one promise chain so a rotation never interleaves with a write: every line lands
 * either in the old file (before the rename is noticed) or in the new one.
 */
export async function createFileDestination(path: string, logger: Logger): Promise<Destination> {
  let fh: FileHandle | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  const serial = <T>(op: () => Promise<T>): Promise<T> => {
    const p = chain.then(op, op);
    chain = p.catch(() => undefined);
    return p;
  };
  const closeHandle = async (): Promise<void> => {
    const h = fh;
    fh = undefined;
    await h?.close().catch(() => undefined);
  };

  // Open once at start so that a missing directory is reported early; failure is not fatal:
  // the consumer retries and /export/health says what is wrong.
  try {
    fh = await open(path, 'a');
  } catch (err) {
    logger.error({ path, err: (err as Error).message }, 'export_file_open_failed');
  }

  return {
    name: 'file',
    write: (chunk) =>
      serial(async () => {
        fh ??= await open(path, 'a');
        try {
          await fh.appendFile(chunk, 'utf8');
        } catch (err) {
          // Drop the handle: the next attempt reopens, which is how a fixed path recovers.
          await closeHandle();
          throw err;
        }
      }),
    reopen: () =>
      serial(async () => {
        await closeHandle();
        fh = await open(path, 'a').catch((err: unknown) => {
          logger.error({ path, err: (err as Error).message }, 'export_file_reopen_failed');
          return undefined;
        });
        logger.info({ path }, 'export_file_reopened');
      }),
    close: () => serial(closeHandle),
  };
}
