/**
 * Where the process logs go: fd 2, written off the event loop, and never able to hold the
 * process.
 *
 * pino's own destination (sonic-boom) writes what is still queued synchronously at exit and
 * retries a failed write there for ever, 100 ms apart: EPIPE too (its retry test only spares
 * EAGAIN and EBUSY), so `payflux serve 2>&1 | head -n 5` logged `shutdown_complete` and then
 * never exited once `head` had gone, and a full pipe whose reader stopped reading held the
 * exit as long as it stayed full. Here:
 *
 * - one write in flight, the rest queued (at most `maxQueuedBytes`; lines beyond are dropped
 *   and counted: a stalled stderr must not grow the heap);
 * - EAGAIN (a full non-blocking pipe): the write is tried again `retryMs` later;
 * - any other error (EPIPE: the reader is gone): the destination is closed, and every later
 *   line is dropped, as pino does on EPIPE;
 * - `flushSync()` (at exit) writes what is queued for at most `exitFlushMs`, then gives up.
 */
import { write, writeSync } from 'node:fs';

/** The file operations used; tests pass fakes. */
export interface LogIo {
  write(fd: number, chunk: Buffer, done: (err: NodeJS.ErrnoException | null, written: number) => void): void;
  /** Throws the errno error. */
  writeSync(fd: number, chunk: Buffer): number;
  sleep(ms: number): void;
  now(): number;
  setTimeout(fn: () => void, ms: number): void;
}

export interface LogDestinationOptions {
  readonly maxQueuedBytes?: number;
  readonly retryMs?: number;
  readonly exitFlushMs?: number;
  readonly io?: LogIo;
}

export interface LogDestination {
  /** pino's entry point: one serialized line. */
  write(line: string): void;
  /** Calls back once everything queued was written (or dropped: the destination is closed). */
  flush(done?: (err?: Error) => void): void;
  /** Writes what is queued, synchronously, for at most `exitFlushMs`. */
  flushSync(): void;
  /** Lines dropped: over the queue bound, or after the destination closed. */
  readonly dropped: number;
  /** Whether writing stopped for good (the reader went away, or another write error). */
  readonly closed: boolean;
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

const nodeIo: LogIo = {
  write: (fd, chunk, done) => write(fd, chunk, 0, chunk.length, null, done),
  writeSync: (fd, chunk) => writeSync(fd, chunk),
  sleep: (ms) => void Atomics.wait(sleeper, 0, 0, ms),
  now: () => Date.now(),
  setTimeout: (fn, ms) => void setTimeout(fn, ms).unref(),
};

export function createLogDestination(fd: number, o: LogDestinationOptions = {}): LogDestination {
  const io = o.io ?? nodeIo;
  const maxQueued = o.maxQueuedBytes ?? 4 * 1024 * 1024;
  const retryMs = o.retryMs ?? 50;
  const exitFlushMs = o.exitFlushMs ?? 1000;
  let queue: string[] = [];
  let queuedBytes = 0;
  /** The bytes of the write in flight, not yet confirmed. */
  let inFlight: Buffer | undefined;
  let closed = false;
  let dropped = 0;
  let waiting: ((err?: Error) => void)[] = [];

  const settleWaiters = (): void => {
    const w = waiting;
    waiting = [];
    for (const done of w) done();
  };

  const close = (): void => {
    closed = true;
    dropped += queue.length;
    queue = [];
    queuedBytes = 0;
    inFlight = undefined;
    settleWaiters();
  };

  const writeChunk = (chunk: Buffer): void => {
    inFlight = chunk;
    io.write(fd, chunk, (err, written) => {
      if (closed) return;
      if (err !== null) {
        if (err.code === 'EAGAIN') io.setTimeout(() => !closed && writeChunk(chunk), retryMs);
        else close();
        return;
      }
      if (written < chunk.length) writeChunk(chunk.subarray(written));
      else next();
    });
  };

  const next = (): void => {
    inFlight = undefined;
    if (queue.length === 0) {
      settleWaiters();
      return;
    }
    const chunk = Buffer.from(queue.join(''));
    queue = [];
    queuedBytes = 0;
    writeChunk(chunk);
  };

  return {
    write(line) {
      if (closed || queuedBytes + line.length > maxQueued) {
        dropped++;
        return;
      }
      queue.push(line);
      queuedBytes += line.length;
      if (inFlight === undefined) next();
    },

    flush(done) {
      if (closed || (inFlight === undefined && queue.length === 0)) done?.();
      else if (done !== undefined) waiting.push(done);
    },

    flushSync() {
      if (closed) return;
      // What an async write still holds may be written by now or not: skipped rather than
      // written twice, as sonic-boom does.
      let chunk = Buffer.from(queue.join(''));
      queue = [];
      queuedBytes = 0;
      const deadline = io.now() + exitFlushMs;
      while (chunk.length > 0) {
        try {
          chunk = chunk.subarray(io.writeSync(fd, chunk));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || io.now() >= deadline) {
            closed = true;
            return;
          }
          io.sleep(Math.min(10, Math.max(0, deadline - io.now())));
        }
      }
    },

    get dropped() {
      return dropped;
    },
    get closed() {
      return closed;
    },
  };
}

let stderr: LogDestination | undefined;

/** The process's stderr destination: one for every logger, flushed (bounded) at exit. */
export function stderrDestination(): LogDestination {
  if (stderr === undefined) {
    const dest = createLogDestination(2);
    process.once('exit', () => dest.flushSync());
    stderr = dest;
  }
  return stderr;
}

/** Lines the process's stderr destination dropped so far (0 before it is created). */
export function stderrDropped(): number {
  return stderr?.dropped ?? 0;
}
