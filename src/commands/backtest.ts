/**
 * `payflux backtest <file.ndjson>`: the live operators over a recorded file, in event time, with
 * no Redis. Each line is one event as producers post it; lines that fail validation are skipped
 * and counted (the report lists the first few). Export lines go to `out` exactly as the live
 * consumer writes them (stream ids are synthetic: `0-<line number>`); incidents are tracked
 * whatever PAYFLUX_PILOT_MODE says, and `--report` writes them as JSON.
 *
 * Determinism: the incident clock is the event time of the batch being processed, so the same
 * file gives the same report on every run.
 */
import { writeFile } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { BehaviorSubject, concatMap, from, lastValueFrom, map, takeWhile, tap } from 'rxjs';
import type { Config } from '../config.js';
import type { Incident } from '../operators/track-incidents.js';
import { createLineEncoder } from '../sinks/export-line.js';
import { riskStages } from '../pipeline/risk-stages.js';
import { createEventValidator } from '../events/validate-event.js';
import {
  BATCH,
  envelopesOf,
  MAX_REPORTED_ERRORS,
  type BacktestMessage,
  type BacktestWorkerData,
} from './backtest-reader.js';
import type { Envelope } from '../pipeline/types.js';
import type { Batch } from '../pipeline/types.js';

export interface BacktestResult {
  readonly file: string;
  readonly model: string;
  readonly tier: string;
  readonly events: number;
  readonly skipped: number;
  readonly errors: readonly { readonly line: number; readonly message: string }[];
  readonly durationMs: number;
  readonly incidents: readonly Incident[];
}

export async function runBacktest(
  config: Config,
  o: { file: string; out: NodeJS.WritableStream; consumerName?: string },
): Promise<BacktestResult> {
  const started = performance.now();
  const encode = createLineEncoder(o.consumerName ?? 'backtest');
  const errors: { line: number; message: string }[] = [];
  let events = 0;
  let skipped = 0;
  let clockMs = 0;
  const incidents = new Map<string, Incident>();

  // The file is read and validated on a worker thread (backtest-reader.ts), which hands over
  // each batch as the live consumer has it after decoding stream entries, except one line in
  // six that this thread checks itself (MAIN_THREAD_SHARE).
  async function* batches(): AsyncGenerator<Batch> {
    const worker = new Worker(new URL('./backtest-worker.js', import.meta.url), {
      workerData: { file: o.file, processors: config.ingest.processors } satisfies BacktestWorkerData,
      // Not piped to our process.stdout and stderr: setting that up made fd 1 non-blocking
      // (seen in /proc/self/fdinfo), and the export's fd-1 stream then failed with EAGAIN
      // whenever a pipe's reader fell behind. The reader thread writes to neither; its
      // failures arrive as messages or 'error' events.
      stdout: true,
      stderr: true,
    });
    const messages = new MessageQueue<BacktestMessage>(worker);
    const validate = createEventValidator({
      processors: config.ingest.processors,
      maxClockSkewSec: Infinity,
    });
    // Batches of exactly BATCH events, as the live consumer reads them, whichever thread
    // skipped a line: a message can hold fewer valid events than that.
    let carry: Envelope[] = [];
    try {
      for (;;) {
        const m = await messages.next();
        if (m.kind === 'failed') throw Object.assign(new Error(m.message), { code: m.code });
        errors.push(...m.errors);
        skipped += m.skipped;
        if (m.kind === 'end') {
          if (carry.length > 0) yield { entries: carry, dead: [], ackIds: [] };
          return;
        }
        worker.postMessage('more');
        const entries = envelopesOf(m, validate, skipHere);
        carry = carry.length === 0 ? entries : carry.concat(entries);
        if (carry.length >= BATCH) {
          yield { entries: carry.length === BATCH ? carry : carry.slice(0, BATCH), dead: [], ackIds: [] };
          carry = carry.slice(BATCH);
        }
      }
    } finally {
      await worker.terminate();
    }
  }

  // Each thread reports its first MAX_REPORTED_ERRORS, so the first of all are among them.
  let reportedHere = 0;
  function skipHere(line: number, message: string): void {
    skipped++;
    if (reportedHere++ < MAX_REPORTED_ERRORS) errors.push({ line, message });
  }

  // Pulled like the live consumer's reads: the next batch is read once this one is encoded and
  // the one before it written (the encoder's two buffers: one write in flight, one being
  // filled). `from(asyncIterable)` would push the whole file into concatMap's buffer ahead of a
  // slow output, and stamp lines with the clock of batches read since: nondeterministic
  // `processed_at`, unbounded memory.
  const source = batches()[Symbol.asyncIterator]();
  const demand$ = new BehaviorSubject<void>(undefined);
  const batch$ = demand$.pipe(
    concatMap(() => from(source.next())),
    takeWhile((r) => r.done !== true),
    map((r) => r.value),
  );
  // A failed output (EPIPE when the reader went away, a full disk) ends the run with that error,
  // whether the write's callback or the stream's 'error' event reports it first.
  let outError: Error | undefined;
  const onOutError = (err: Error): void => {
    outError ??= err;
  };
  o.out.on('error', onOutError);
  // The previous batch's write, in flight while the next batch is scored and encoded.
  let writing: Promise<void> = Promise.resolve();
  const write = (chunk: Buffer): Promise<void> => {
    const done = new Promise<void>((resolve, reject) => o.out.write(chunk, (err) => (err ? reject(err) : resolve())));
    done.catch(() => undefined); // awaited before the next write or at the end, never left unhandled
    return done;
  };
  try {
    await lastValueFrom(
      batch$.pipe(
        tap((b) => {
          for (const e of b.entries) if (e.eventTimeMs > clockMs) clockMs = e.eventTimeMs;
        }),
        riskStages({ risk: config.risk, incidents: { cooldownSec: config.pilot.cooldownSec }, now: () => clockMs }),
        concatMap(async ({ batch, transitions }) => {
          if (outError !== undefined) throw outError;
          events += batch.entries.length;
          for (const t of transitions) incidents.set(t.incident.warning_id, t.incident);
          // Encoded into the buffer the write before last used; the last write may still be
          // running, and must be done before this one starts (the encoder's next call reuses
          // its buffer). A failed write fails the run with the output's error.
          const chunk = encode(batch.entries, new Date(clockMs).toISOString());
          await writing;
          writing = write(chunk);
          demand$.next();
        }),
      ),
      { defaultValue: undefined },
    );
    await writing;
  } finally {
    o.out.off('error', onOutError);
    // Close the input file when the run ended early.
    await source.return?.(undefined);
  }
  if (outError !== undefined) throw outError;

  return {
    file: o.file,
    model: config.risk.model,
    tier: config.risk.tier,
    events,
    skipped,
    errors: errors.sort((a, b) => a.line - b.line).slice(0, MAX_REPORTED_ERRORS),
    durationMs: Math.round(performance.now() - started),
    incidents: [...incidents.values()].sort((a, b) => a.opened_at.localeCompare(b.opened_at)),
  };
}

export async function writeReport(path: string, result: BacktestResult): Promise<void> {
  await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
}

/** A worker's messages, one at a time, in order; an error or an exit before `end` rejects. */
class MessageQueue<T> {
  private readonly queued: T[] = [];
  private waiting: { resolve: (m: T) => void; reject: (e: Error) => void } | undefined;
  private failure: Error | undefined;

  constructor(worker: Worker) {
    worker.on('message', (m: T) => {
      if (this.waiting === undefined) this.queued.push(m);
      else this.settle().resolve(m);
    });
    const fail = (err: Error): void => {
      this.failure ??= err;
      if (this.waiting !== undefined) this.settle().reject(this.failure);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`backtest reader exited (${code}) before the end of the file`)));
  }

  next(): Promise<T> {
    const m = this.queued.shift();
    if (m !== undefined) return Promise.resolve(m);
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiting = { resolve, reject }));
  }

  private settle(): { resolve: (m: T) => void; reject: (e: Error) => void } {
    const w = this.waiting;
    this.waiting = undefined;
    if (w === undefined) throw new Error('nothing waiting');
    return w;
  }
}
