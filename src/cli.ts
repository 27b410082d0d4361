#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=16
/**
 * The `payflux` command (commander): `serve` (the default), `check`, `dlq list|replay|purge`,
 * `replay`, `backtest`, `loadgen`; `--version`; `<command> --help` lists every option with its
 * default and the environment variables the command reads (cli-help.ts).
 *
 * Configuration is the environment (and `.env`), as for `serve`. Exit codes: 0 ok, 1 failure,
 * 64 usage (an unknown command or option, a bad value: the message names it), 69 Redis
 * unreachable (operator commands try it once), 78 bad configuration.
 */
// Commands import what they need when they run: `payflux backtest` needs neither Fastify nor
// ioredis, and loading the whole server took 0.7 s before anything happened.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { BufferUnavailableError, ConfigError } from './errors.js';
import { ENV_VARS, environment, loadConfig, parseHostPort, type Config, type EnvVar } from './config.js';
import { unknownVariables } from './unknown-variables.js';
import { envHelp } from './cli-help.js';
import { createLogger } from './logger.js';
import { RISK_MODELS } from './risk-terms.js';
import { VERSION } from './version.js';

const EX_USAGE = 64;
const EX_UNAVAILABLE = 69;
const EX_CONFIG = 78;

const REDIS_VARS = [
  'REDIS_ADDR',
  'REDIS_URL',
  'REDIS_PASSWORD',
  'REDIS_TLS',
  'REDIS_SOCKET_TIMEOUT_MS',
  'REDIS_CLUSTER_NODES',
  'PAYFLUX_BUFFER',
  'PAYFLUX_KEY_PREFIX',
  'PAYFLUX_STREAM',
  'PAYFLUX_DLQ_STREAM',
  'PAYFLUX_LOG_LEVEL',
] as const satisfies readonly EnvVar[];
const RISK_VARS = [
  'PAYFLUX_PROCESSORS',
  'PAYFLUX_RISK_MODEL',
  'PAYFLUX_RISK_SCORE_WINDOW_SEC',
  'PAYFLUX_ALLOWED_LATENESS_SEC',
  'PAYFLUX_RISK_SCORE_THRESHOLDS',
  'PAYFLUX_TIER',
  'PAYFLUX_WARNING_COOLDOWN_SEC',
] as const satisfies readonly EnvVar[];

const say = (line: string): void => void process.stderr.write(`${line}\n`);

/** The configuration, or exit 78 listing every problem. */
function config(env: Record<string, string | undefined> = environment()): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      say(`payflux: ${err.message}`);
      process.exit(EX_CONFIG);
    }
    throw err;
  }
}

const positiveInt =
  (max?: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > (max ?? Number.MAX_SAFE_INTEGER))
      throw new InvalidArgumentError(
        `must be a whole number ${max === undefined ? 'of at least 1' : `from 1 to ${max}`}`,
      );
    return n;
  };

function thresholds(value: string): string {
  try {
    loadConfig({ PAYFLUX_RISK_SCORE_THRESHOLDS: value });
  } catch {
    throw new InvalidArgumentError('must be three ascending numbers in (0, 1], e.g. 0.3,0.6,0.8');
  }
  return value;
}

/** `loadgen`'s default server: HTTP_ADDR's port on this host (its own host when one is named). */
function defaultUrl(env: Record<string, string | undefined>): string {
  const hp = parseHostPort(env.HTTP_ADDR?.trim() || ':8080');
  if (hp === undefined) return 'http://127.0.0.1:8080';
  const host =
    hp.host === '0.0.0.0' ? '127.0.0.1' : hp.host === '::' ? '[::1]' : hp.host.includes(':') ? `[${hp.host}]` : hp.host;
  return `http://${host}:${hp.port}`;
}

const program: Command = new Command('payflux')
  .description('Payment-traffic observability buffer: HTTP ingest, Redis Streams, processor risk, NDJSON export.')
  .version(VERSION, '-V, --version', 'print the version and exit')
  .helpOption('-h, --help', 'show this help; payflux <command> --help for a command')
  .addHelpCommand(false)
  .showSuggestionAfterError()
  .exitOverride();

program
  .command('serve', { isDefault: true })
  .description('run PayFlux: ingest, the consumer pipeline and the HTTP API (PAYFLUX_ROLE splits them)')
  .addHelpText('after', envHelp(ENV_VARS as readonly EnvVar[]))
  .action(async () => {
    await (await import('./serve.js')).serve();
  });

program
  .command('check')
  .description('validate the configuration (and key files) as serve would, start nothing; exit 0 or 78')
  .addHelpText('after', envHelp(ENV_VARS as readonly EnvVar[]))
  .action(async () => {
    const env = environment();
    for (const u of unknownVariables(env))
      say(
        `payflux: warning: ${u.name} is not a PayFlux variable and is ignored${u.suggestion === undefined ? '' : ` (did you mean ${u.suggestion}?)`}`,
      );
    const cfg = config(env);
    const { loadKeySet } = await import('./http/key-files.js');
    try {
      loadKeySet(cfg);
    } catch (err) {
      if (err instanceof ConfigError) {
        say(`payflux: ${err.message}`);
        process.exit(EX_CONFIG);
      }
      throw err;
    }
    const { TIER_LABELS } = await import('./risk-terms.js');
    process.stdout.write(
      `configuration is valid: ${cfg.risk.tier} (${TIER_LABELS[cfg.risk.tier]}), role ${cfg.role}, buffer ${cfg.buffer.kind}, ` +
        `export ${cfg.export.mode}, ack ${cfg.consumer.ackMode}, risk ${cfg.risk.enabled ? cfg.risk.model : 'off'}, pilot ${cfg.pilot.enabled ? 'on' : 'off'}\n`,
    );
  });

const dlq = program
  .command('dlq')
  .description('the dead-letter stream: list, replay or purge its entries')
  .addHelpText('after', envHelp(REDIS_VARS));
for (const [action, what] of [
  ['list', 'print dead-letter entries as JSON lines'],
  ['replay', 'move dead-letter entries back into the stream'],
  ['purge', 'delete the dead-letter stream'],
] as const) {
  const sub = dlq.command(action).description(what).addHelpText('after', envHelp(REDIS_VARS));
  if (action !== 'purge') sub.option('--count <n>', 'at most this many entries', positiveInt(), 1000);
  sub.action(async (opts: { count?: number }) => {
    const cfg = config();
    const { runDlq } = await import('./commands/dlq.js');
    await runDlq(cfg, action, {
      count: opts.count ?? 1000,
      logger: createLogger(cfg.logLevel),
      out: process.stdout,
      log: say,
    });
  });
}

program
  .command('replay')
  .description('re-export stored events from the stream (retention window) to stdout, oldest first')
  .requiredOption('--since <time>', 'an RFC 3339 time, or a duration back from now: 90s, 15m, 2h, 7d')
  .option('--count <n>', 'at most this many events (default: all since then)', positiveInt())
  .addHelpText('after', envHelp([...REDIS_VARS, 'PAYFLUX_CONSUMER_NAME']))
  .action(async (opts: { since: string; count?: number }) => {
    const { parseSince, runReplay } = await import('./commands/replay.js');
    const since = parseSince(opts.since, Date.now());
    if (since === undefined)
      program.error(
        `error: option '--since <time>' argument '${opts.since}' is neither an RFC 3339 time nor a duration like 2h`,
        {
          exitCode: EX_USAGE,
        },
      );
    const cfg = config();
    const n = await runReplay(cfg, {
      sinceMs: since,
      count: opts.count,
      logger: createLogger(cfg.logLevel),
      out: process.stdout,
    });
    say(`re-exported ${n} events`);
  });

program
  .command('backtest')
  .description('run the live operators over recorded events in event time, no Redis; export lines to stdout')
  .argument('<file>', 'NDJSON events, one per line, gzip-compressed or not; - reads standard input')
  .option('--report <path>', 'write the incidents and the run as JSON here (checked before the run)')
  .addOption(new Option('--model <name>', 'risk model (default: PAYFLUX_RISK_MODEL)').choices(RISK_MODELS))
  .option(
    '--thresholds <a,b,c>',
    'elevated, high, critical lower bounds (default: PAYFLUX_RISK_SCORE_THRESHOLDS)',
    thresholds,
  )
  .addHelpText('after', envHelp(RISK_VARS))
  .action(async (file: string, opts: { report?: string; model?: string; thresholds?: string }) => {
    const { checkReportPath, runBacktestCommand } = await import('./commands/backtest-command.js');
    const env = environment();
    const cfg = config({
      ...env,
      ...(opts.model !== undefined && { PAYFLUX_RISK_MODEL: opts.model }),
      ...(opts.thresholds !== undefined && { PAYFLUX_RISK_SCORE_THRESHOLDS: opts.thresholds }),
    });
    const problem = await checkReportPath(opts.report);
    if (problem !== undefined) program.error(`error: option '--report <path>' ${problem}`, { exitCode: EX_USAGE });
    process.exitCode = await runBacktestCommand(cfg, file, opts.report, say);
  });

program
  .command('loadgen')
  .description('send scenario traffic to a running PayFlux and watch its risk live')
  .option('--scenario <name>', 'what happens to stripe from a third of the run on (--list)', 'outage')
  .option('--url <url>', 'the server (default: http://127.0.0.1:<port of HTTP_ADDR>)')
  .option('--rate <n>', 'events per second', positiveRate, 60)
  .option('--duration <sec>', 'seconds to run', positiveInt(3600), 180)
  .option('--key <key>', 'API key (default: the first of PAYFLUX_API_KEYS, else PAYFLUX_API_KEY)')
  .option('--list', 'list the scenarios and exit')
  .addHelpText('after', envHelp(['HTTP_ADDR', 'PAYFLUX_API_KEYS', 'PAYFLUX_API_KEY', 'PAYFLUX_PROCESSORS']))
  .action(
    async (opts: { scenario: string; url?: string; rate: number; duration: number; key?: string; list?: boolean }) => {
      const { SCENARIOS, runLoadgen, scenarioList } = await import('./commands/loadgen.js');
      if (opts.list === true) {
        process.stdout.write(scenarioList());
        return;
      }
      if (SCENARIOS[opts.scenario] === undefined)
        program.error(
          `error: option '--scenario <name>' argument '${opts.scenario}' is invalid. Allowed choices are ${Object.keys(SCENARIOS).join(', ')}.`,
          { exitCode: EX_USAGE },
        );
      const env = environment();
      const processors = env.PAYFLUX_PROCESSORS?.split(',')
        .map((p) => p.trim())
        .filter((p) => p !== '');
      const result = await runLoadgen({
        scenario: opts.scenario,
        url: opts.url ?? defaultUrl(env),
        rate: opts.rate,
        durationSec: opts.duration,
        key: opts.key ?? env.PAYFLUX_API_KEYS?.split(',')[0]?.trim() ?? env.PAYFLUX_API_KEY,
        ...(processors !== undefined && processors.length > 0 && { processors }),
        out: process.stderr,
      });
      if (result.accepted === 0) {
        say('loadgen: nothing got through');
        process.exitCode = 1;
      }
    },
  );

function positiveRate(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0 || n > 50_000)
    throw new InvalidArgumentError('must be a number of events per second above 0, at most 50000');
  return n;
}

// `serve` is the default command, so commander would take a mistyped command for its argument.
const first = process.argv[2];
if (first !== undefined && !first.startsWith('-') && !program.commands.some((c) => c.name() === first)) {
  say(`error: unknown command '${first}' (commands: ${program.commands.map((c) => c.name()).join(', ')})`);
  process.exit(EX_USAGE);
}

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Help and --version end here too; commander printed them, or the error naming the option.
    const done = err.code === 'commander.helpDisplayed' || err.code === 'commander.version';
    process.exit(done ? 0 : err.code === 'commander.error' ? err.exitCode : EX_USAGE);
  }
  if (err instanceof BufferUnavailableError) {
    say(`payflux: ${err.message}`);
    process.exit(EX_UNAVAILABLE);
  }
  say(`payflux: ${(err as Error).message}`);
  process.exit(1);
});
