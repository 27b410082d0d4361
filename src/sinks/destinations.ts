/**
 * Where export lines go. A destination takes one batch's bytes and resolves once they
 * are handed to the OS (the write callback / the file write), which is what ack-after-export
 * waits for. Awaiting each write is also the backpressure: a slow reader of stdout slows the
 * consumer, and the next XREADGROUP waits.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Logger } from 'pino';

export type DestinationName = 'stdout' | 'file';

const NEWLINE = Buffer.from('\n');

export interface Destination {
  readonly name: DestinationName;
  /** The caller reuses `chunk` once this settles (see `createLineEncoder`): keep no reference past it. */
  write(chunk: Buffer): Promise<void>;
  reopen(): Promise<void>;
  /**
   * When the destination could not be opened, try again: true once it opens, false when there
   * was no failed open to retry (a write's own failure is retried by the next write, not here);
   * rejects with the open's error. Lets health follow a destination that nothing writes to.
   */
  probe(): Promise<boolean>;
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
    probe: () => Promise.resolve(false),
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
  // The file ends inside a line: the next write starts with "\n" (see `openAppend`).
  let tornTail = false;
  // Not opened yet, or the last attempt to open failed (a missing directory, a volume not
  // mounted yet): `probe` opens it. The exporter probes at start, so a missing directory is
  // reported at once; failure is not fatal (the consumer retries, /export/health says why).
  let openFailed = true;
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

  /**
   * Open for append. A SIGKILL or a full disk in the middle of a write can leave the file ending
   * in a partial line; appending to it would glue the next export line onto the fragment and
   * make that (complete, redelivered) event unreadable to a line-based shipper. So when the
   * file does not end with "\n", the next write terminates the fragment first: it stays one bad
   * line of its own and every line after it parses. Checked at every open, which covers the
   * restart after a crash and the reopen after a failed (possibly partial) write.
   */
  const openAppend = async (): Promise<FileHandle> => {
    let h: FileHandle;
    try {
      h = await open(path, 'a');
    } catch (err) {
      openFailed = true;
      throw err;
    }
    openFailed = false;
    tornTail = await endsInsideLine(path, h);
    return h;
  };

  return {
    name: 'file',
    write: (chunk) =>
      serial(async () => {
        fh ??= await openAppend();
        try {
          await writeAll(fh, tornTail ? Buffer.concat([NEWLINE, chunk]) : chunk);
          tornTail = false;
        } catch (err) {
          // Drop the handle: the next attempt reopens, which is how a fixed path recovers.
          await closeHandle();
          throw err;
        }
      }),
    reopen: () =>
      serial(async () => {
        await closeHandle();
        fh = await openAppend().catch((err: unknown) => {
          logger.error({ path, err: (err as Error).message }, 'export_file_reopen_failed');
          return undefined;
        });
        logger.info({ path }, 'export_file_reopened');
      }),
    probe: () =>
      serial(async () => {
        if (!openFailed || fh !== undefined) return false;
        fh = await openAppend();
        logger.info({ path }, 'export_file_opened');
        return true;
      }),
    close: () => serial(closeHandle),
  };
}

/**
 * One positional-less write per batch (append mode puts it at the end). `appendFile` went through
 * writeFile's chunking loop and cost 12% of the consumer's CPU in the drain profile; a write of a
 * regular file completes in one call short of a full disk, and the loop covers a short write.
 */
async function writeAll(h: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) {
    const { bytesWritten } = await h.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}

/**
 * Whether a regular file's last byte is something other than "\n". Read through a separate
 * read-only handle (the append handle is write-only; the path was opened a moment ago, so it
 * is the same file short of a rotation in between); anything that is not a regular file
 * (/dev/stdout, a FIFO, /dev/full), or that cannot be read, counts as not torn.
 */
async function endsInsideLine(path: string, h: FileHandle): Promise<boolean> {
  const st = await h.stat();
  if (!st.isFile() || st.size === 0) return false;
  let r: FileHandle | undefined;
  try {
    r = await open(path, 'r');
    const { bytesRead, buffer } = await r.read(Buffer.alloc(1), 0, 1, st.size - 1);
    return bytesRead === 1 && buffer[0] !== 0x0a;
  } catch {
    return false;
  } finally {
    await r?.close();
  }
}
