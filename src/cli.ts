#!/usr/bin/env node
/**
 * The `payflux` command.
 *
 *   payflux [serve]                      run ingest + consumer (PAYFLUX_ROLE splits them)
 *   payflux dlq list [--count N]         print dead-letter entries as JSON lines
 *   payflux dlq replay [--count N]       move dead-letter entries back to the stream
 *   payflux dlq purge                    delete the dead-letter stream
 *   payflux replay --since <time>        re-export stored events since <time> to stdout
 *   payflux backtest <file.ndjson> [--report incidents.json]
 *                                        the live operators over a file, no Redis needed
 *
 * Configuration is the same environment as `serve`. Exit codes: 0 ok, 1 failure, 64 usage,
 * 78 bad configuration.
 */
import { createWriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { parseArgs } from 'node:util';
// Commands import what they need when they run: `payflux backtest` needs neither Fastify nor
// ioredis, and loading the whole server took 0.7 s before anything happened.
import { ConfigError } from './errors.js';
import { environment, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';

const USAGE = `usage: payflux [serve]
       payflux dlq list|replay|purge [--count N]
       payflux replay --since <RFC3339 time | duration like 2h> [--count N]
       payflux backtest <events.ndjson> [--report incidents.json]
       payflux loadgen [--scenario NAME] [--url URL] [--rate N] [--duration SEC] [--list]`;

function config(): Config {
  try {
    return loadConfig(environment());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`payflux: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}

function usage(message?: string): never {
  if (message !== undefined) process.stderr.write(`payflux: ${message}\n`);
  process.stderr.write(`${USAGE}\n`);
  process.exit(64);
}

async function dlq(action: string | undefined, count: number): Promise<void> {
  const cfg = config();
  const logger = createLogger(cfg.logLevel);
  const { connectBuffer } = await import('./buffer/connect.js');
  const buffer = await connectBuffer(
    { ...cfg, buffer: { ...cfg.buffer, kind: cfg.buffer.kind === 'auto' ? 'redis' : cfg.buffer.kind } },
    { logger },
  );
  try {
    switch (action) {
      case 'list':
        for (const e of await buffer.dlqList(count)) {
          process.stdout.write(
            `${JSON.stringify({ dlq_id: e.dlqId, original_id: e.originalId, reason: e.reason, timestamp: e.timestamp, data: e.data })}\n`,
          );
        }
        break;
      case 'replay':
        process.stderr.write(`replayed ${await buffer.dlqReplay(count)} entries into the stream\n`);
        break;
      case 'purge':
        process.stderr.write(`purged ${await buffer.dlqPurge()} entries\n`);
        break;
      default:
        usage(`unknown dlq action "${action ?? ''}"`);
    }
  } finally {
    await buffer.close();
  }
}

async function backtest(file: string, reportPath: string | undefined): Promise<void> {
  const cfg = config();
  const { runBacktest, writeReport } = await import('./commands/backtest.js');
  // process.stdout is synchronous for files and pipes on Linux: each chunk's write stalled
  // the operators (a quarter of a backtest's CPU profile). A WriteStream on fd 1 writes
  // from libuv's thread pool, on the other core, while the next batch is scored.
  const out = createWriteStream('', { fd: 1, autoClose: false, highWaterMark: 1 << 22 });
  const started = performance.now();
  let run;
  try {
    run = await runBacktest(cfg, { file, out });
    out.end();
    await finished(out);
  } catch (err) {
    // The reader went away (`payflux backtest f | head`): stop quietly, like any filter.
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
    process.stderr.write('backtest: output closed before the end (EPIPE); stopped, no report written\n');
    return;
  }
  // Timed to the last line written, not to the last line handed to the stream.
  const result = { ...run, durationMs: Math.round(performance.now() - started) };
  if (reportPath !== undefined) await writeReport(reportPath, result);
  process.stderr.write(
    `backtest: ${result.events} events (${result.skipped} skipped) in ${result.durationMs} ms, model ${result.model}, ${result.incidents.length} incidents\n`,
  );
}

async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      count: { type: 'string' },
      report: { type: 'string' },
      scenario: { type: 'string' },
      url: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      key: { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const count = values.count === undefined ? 1000 : Number(values.count);
  if (!Number.isInteger(count) || count <= 0) usage('--count must be a positive integer');
  const [command = 'serve', sub] = positionals;
  switch (command) {
    case 'serve':
      await (await import('./serve.js')).serve();
      return;
    case 'dlq':
      await dlq(sub, count);
      return;
    case 'replay': {
      if (values.since === undefined) usage('replay needs --since');
      const { parseSince, runReplay } = await import('./commands/replay.js');
      const since = parseSince(values.since, Date.now());
      if (since === undefined) usage(`--since "${values.since}" is neither an RFC 3339 time nor a duration like 2h`);
      const cfg = config();
      const n = await runReplay(cfg, { sinceMs: since, logger: createLogger(cfg.logLevel), out: process.stdout });
      process.stderr.write(`re-exported ${n} events\n`);
      return;
    }
    case 'backtest':
      if (sub === undefined) usage('backtest needs a file of events (NDJSON)');
      await backtest(sub, values.report);
      return;
    case 'loadgen': {
      const { runLoadgen } = await import('./commands/loadgen.js');
      await runLoadgen({
        scenario: values.scenario,
        url: values.url,
        rate: values.rate === undefined ? undefined : Number(values.rate),
        durationSec: values.duration === undefined ? undefined : Number(values.duration),
        key: values.key ?? environment().PAYFLUX_API_KEYS?.split(',')[0]?.trim(),
        list: values.list === true,
        out: process.stderr,
      });
      return;
    }
    default:
      usage(`unknown command "${command}"`);
  }
}

run(process.argv.slice(2)).catch((err: unknown) => {
  process.stderr.write(`payflux: ${(err as Error).message}\n`);
  process.exit(1);
});
