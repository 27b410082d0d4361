/**
 * `payflux backtest` as a command: the report path checked before the run, the export lines on
 * fd 1, a summary on stderr, and the exit code (1 when no line of the input was an event).
 */
import { constants, createWriteStream } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { finished } from 'node:stream/promises';
import type { Config } from '../config.js';
import { runBacktest, writeReport } from './backtest.js';

/** Why `path` cannot take the report (written at the end of a long run), or undefined. */
export async function checkReportPath(path: string | undefined): Promise<string | undefined> {
  if (path === undefined) return undefined;
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory() === true) return `'${path}' is a directory`;
  try {
    await access(existing === undefined ? dirname(path) : path, constants.W_OK);
  } catch (err) {
    return `'${path}' cannot be written (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  return undefined;
}

/** Runs the backtest of `file` (`-`: standard input); resolves with the exit code. */
export async function runBacktestCommand(
  config: Config,
  file: string,
  reportPath: string | undefined,
  say: (line: string) => void,
): Promise<number> {
  // process.stdout is synchronous for files and pipes on Linux: each chunk's write stalled
  // the operators (a quarter of a backtest's CPU profile). A WriteStream on fd 1 writes
  // from libuv's thread pool, on the other core, while the next batch is scored.
  const out = createWriteStream('', { fd: 1, autoClose: false, highWaterMark: 1 << 22 });
  const started = performance.now();
  let result;
  try {
    result = await runBacktest(config, { file, out });
    out.end();
    await finished(out);
  } catch (err) {
    // The reader went away (`payflux backtest f | head`): stop quietly, like any filter.
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    say('backtest: output closed before the end (EPIPE); stopped, no report written');
    return 0;
  }
  // Timed to the last line written, not to the last line handed to the stream.
  const timed = { ...result, durationMs: Math.round(performance.now() - started) };
  if (reportPath !== undefined) await writeReport(reportPath, timed);
  say(
    `backtest: ${timed.events} events (${timed.skipped} skipped) in ${timed.durationMs} ms, model ${timed.model}, ${timed.incidents.length} incidents`,
  );
  if (timed.events > 0) return 0;
  const first = timed.errors[0];
  say(
    `backtest: no event in ${file === '-' ? 'the input' : file}${first === undefined ? '' : `; line ${first.line}: ${first.message}`}`,
  );
  return 1;
}
