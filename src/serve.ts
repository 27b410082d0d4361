/**
 * `payflux serve`: the process around `start()`. Bad configuration exits 78; SIGHUP reloads keys
 * and reopens the export file (also when it arrives while starting); SIGTERM and SIGINT shut
 * down in order within PAYFLUX_SHUTDOWN_TIMEOUT_SEC; PAYFLUX_PANIC_MODE says whether an
 * uncaught error ends the process.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';
import { environment, loadConfig, type Config } from './config.js';
import { unknownVariables } from './unknown-variables.js';
import { ConfigError } from './errors.js';
import { tuneHeap, YOUNG_GENERATION_FLAG, youngGenerationSet } from './heap.js';
import { createLogger } from './logger.js';
import { workerLink } from './http/worker-link.js';

/**
 * Exit once the logs written so far reached stderr (the last lines, `shutdown_complete` among
 * them, would otherwise be lost with a write still in flight), or after a second whatever
 * stderr does: a reader that went away or stopped reading never holds the exit.
 */
function exitAfterLogs(logger: Logger, code: number): void {
  process.exitCode = code;
  const exit = (): never => process.exit(code);
  setTimeout(exit, LOG_FLUSH_MS);
  logger.flush(exit);
}

const LOG_FLUSH_MS = 1000;

function exitOnConfigError(err: unknown): void {
  if (!(err instanceof ConfigError)) return;
  process.stderr.write(`payflux: ${err.message}\n`);
  process.exit(78);
}

/** `payflux serve`: run until SIGTERM/SIGINT; exit 78 on bad config. */
export async function serve(): Promise<void> {
  let config: Config;
  const env = environment();
  try {
    config = loadConfig(env);
  } catch (err) {
    exitOnConfigError(err);
    throw err;
  }
  tuneHeap(config.heapGrowingPercent);
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && cluster.isPrimary) return (await import('./supervisor.js')).supervise(config, logger);
  // The server's modules load only where they run: a supervisor that loaded them held ~100 MB for nothing.
  const { start } = await import('./main.js');
  // A supervised consumer has no port: the ingest workers, or the first consumer of a consumer
  // node, answer for it (http/worker-link.ts).
  const link = workerLink(env);
  for (const u of unknownVariables(env))
    logger.warn({ variable: u.name, did_you_mean: u.suggestion }, 'unknown_variable_ignored');
  if (!youngGenerationSet(process.execArgv, env.NODE_OPTIONS))
    logger.warn({ hint: `start Node with ${YOUNG_GENERATION_FLAG}` }, 'young_generation_not_set');
  // start() can take a while (Redis unreachable, a long window rebuild). A SIGHUP meanwhile
  // (logrotate) would end the process by default: note it and reload once started.
  let hupWhileStarting = false;
  const hupDuringStart = (): void => {
    hupWhileStarting = true;
  };
  process.on('SIGHUP', hupDuringStart);
  // What `killall -SIGHUP payflux` (logrotate's postrotate) and `ps` match. Only now: a SIGHUP
  // that found the process before its handler would end it.
  process.title = 'payflux';
  const running = await start(config, {
    logger,
    link,
    listen: link === undefined || config.role !== 'consumer' || link.listens,
  }).catch((err: unknown) => {
    exitOnConfigError(err); // the key files, read by start()
    throw err;
  });
  process.off('SIGHUP', hupDuringStart);
  // environment() reads .env: passed as a reader so that an unreadable one is reload's error.
  process.on('SIGHUP', () => void running.reload(environment));
  if (hupWhileStarting) void running.reload(environment);

  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutdown_started');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown_timed_out');
      exitAfterLogs(logger, 1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    running.close().then(
      () => exitAfterLogs(logger, 0),
      (err: unknown) => {
        logger.error({ err: (err as Error).message }, 'shutdown_failed');
        exitAfterLogs(logger, 1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: { message: err.message, stack: err.stack } }, 'uncaught_exception');
    if (config.panicMode === 'crash') exitAfterLogs(logger, 1);
  });
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: String(reason) }, 'unhandled_rejection');
    if (config.panicMode === 'crash') exitAfterLogs(logger, 1);
  });
}
