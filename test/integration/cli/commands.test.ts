/**
 * The `payflux` command as an operator meets it: --version, --help per command, check, usage
 * errors, operator commands against an unreachable Redis, replay --count, backtest's inputs and
 * exit codes, and the bin run through its own shebang.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { idFactory } from '../../support/events.js';
import { payfluxEnv } from '../../support/payflux-env.js';
import { startPayflux } from '../../support/payflux-process.js';
import { drained, groupState } from '../../support/probes.js';
import { poll } from '../../support/poll.js';
import { sendEvents } from '../../support/producer.js';
import { freePort } from '../../support/redis-server.js';
import { CLI, EMPTY_CWD, childEnv, runCli } from '../../support/run-cli.js';
import { useRedis } from '../../support/use-redis.js';

const suite = useRedis();
const version = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

/** Run the CLI with `input` on its standard input. */
function runWithInput(
  args: readonly string[],
  input: Buffer | string,
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawn(process.execPath, [CLI, ...args], { cwd: EMPTY_CWD, env: childEnv(env) });
  let stdout = '';
  let stderr = '';
  c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  c.stdin.end(input);
  return new Promise((resolve) => c.once('close', (code: number | null) => resolve({ code, stdout, stderr })));
}

const event = (i: number, failed = false): string =>
  JSON.stringify({
    event_id: `bt-${i}`,
    event_timestamp: new Date(Date.parse('2026-01-09T12:00:00Z') + i * 1000).toISOString(),
    event_type: failed ? 'payment_failed' : 'payment_succeeded',
    processor: 'stripe',
  });

describe('payflux --version and --help', () => {
  it('prints the version and exits 0', async () => {
    const r = await runCli(['--version'], {});
    expect(r).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it.each([
    [['serve'], ['PAYFLUX_TIER', 'tier1', 'HTTP_ADDR', ':8080', 'REDIS_ADDR']],
    [['check'], ['PAYFLUX_ACK_MODE', 'after_export']],
    [
      ['dlq', 'list'],
      ['--count <n>', '(default: 1000)', 'REDIS_ADDR', 'PAYFLUX_DLQ_STREAM', 'events_stream_dlq'],
    ],
    [
      ['dlq', 'replay'],
      ['--count <n>', '(default: 1000)', 'REDIS_URL'],
    ],
    [['dlq', 'purge'], ['PAYFLUX_DLQ_STREAM']],
    [['replay'], ['--since <time>', '--count <n>', 'PAYFLUX_STREAM', 'events_stream']],
    [
      ['backtest'],
      [
        '<file>',
        '--report <path>',
        '--model <name>',
        '"adaptive", "classic"',
        '--thresholds',
        'PAYFLUX_RISK_MODEL',
        '0.3,0.6,0.8',
      ],
    ],
    [
      ['loadgen'],
      [
        '--scenario <name>',
        '(default: "outage")',
        '--rate <n>',
        '(default: 60)',
        '--duration',
        '(default: 180)',
        'HTTP_ADDR',
      ],
    ],
  ])('payflux %j --help lists its options with defaults and the variables it reads', async (command, expected) => {
    const r = await runCli([...command, '--help'], {});
    expect(r.code).toBe(0);
    for (const text of expected) expect(r.stdout).toContain(text);
    expect(r.stdout).toContain('Environment (name, default, meaning)');
  });
});

describe('payflux check', () => {
  it('validates without starting anything, and warns about an unknown PAYFLUX_ variable with a suggestion', async () => {
    // Redis is nowhere: check connects to nothing, so this answers at once.
    const r = await runCli(['check'], { PAYFLUX_TEIR: 'tier2', REDIS_ADDR: `127.0.0.1:${await freePort()}` }, 5000);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('configuration is valid: tier1 (Processor Exposure Monitor)');
    expect(r.stderr).toContain('PAYFLUX_TEIR is not a PayFlux variable and is ignored (did you mean PAYFLUX_TIER?)');
  });

  it('exits 78 listing every problem', async () => {
    const r = await runCli(['check'], { PAYFLUX_TIER: 'tier9', PAYFLUX_READ_COUNT: 'ten' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('PAYFLUX_TIER: must be one of tier1, tier2');
    expect(r.stderr).toContain('PAYFLUX_READ_COUNT');
  });

  it('exits 78 on an unreadable key file, as serve would', async () => {
    const r = await runCli(['check'], { PAYFLUX_API_KEYS_FILE: '/nonexistent-payflux-dir/keys' });
    expect(r.code).toBe(78);
    expect(r.stderr).toContain('PAYFLUX_API_KEYS_FILE');
  });
});

describe('usage errors', () => {
  it.each([
    [['backtest', '--model', 'nope', 'x.ndjson'], "option '--model <name>' argument 'nope' is invalid"],
    [['backtest', '--thresholds', '0.9,0.1,0.5', 'x.ndjson'], "option '--thresholds <a,b,c>' argument '0.9,0.1,0.5'"],
    [['loadgen', '--scenario', 'nope'], "option '--scenario <name>' argument 'nope' is invalid"],
    [['loadgen', '--rate', 'abc'], "option '--rate <n>' argument 'abc' is invalid"],
    [['loadgen', '--duration', '0'], "option '--duration <sec>' argument '0' is invalid"],
    [['replay', '--since', '1h', '--count', 'three'], "option '--count <n>' argument 'three' is invalid"],
    [['replay', '--since', 'yesterday'], "option '--since <time>' argument 'yesterday'"],
    [['replay'], "required option '--since <time>' not specified"],
    [['dlq', 'list', '--count', '-1'], "option '--count <n>'"],
    [['dlq', 'frob'], "unknown command 'frob'"],
    [['frob'], "unknown command 'frob'"],
    [['serve', '--bogus'], "unknown option '--bogus'"],
    [['--bogus'], "unknown option '--bogus'"],
    [['backtest'], "missing required argument 'file'"],
  ])('payflux %j exits 64 naming what is wrong', async (args, message) => {
    const r = await runCli(args, {});
    expect(r.code).toBe(64);
    expect(r.stderr).toContain(message);
  });
});

describe('operator commands against Redis', () => {
  it.each([[['dlq', 'list']], [['dlq', 'replay']], [['dlq', 'purge']], [['replay', '--since', '1h']]])(
    'payflux %j fails fast with exit 69 naming Redis when it is unreachable',
    async (args) => {
      const addr = `127.0.0.1:${await freePort()}`;
      const t0 = Date.now();
      const r = await runCli(args, { REDIS_ADDR: addr }, 10_000);
      expect(r.code).toBe(69);
      expect(r.stderr).toContain(`Redis at redis://${addr} is not reachable (connect ECONNREFUSED`);
      expect(Date.now() - t0).toBeLessThan(5000);
    },
  );

  it('replay --count re-exports at most that many events, oldest first', async () => {
    const env = await payfluxEnv(suite);
    const pf = await startPayflux(suite, env);
    const ids = await sendEvents(pf.url, 10, idFactory());
    await poll('everything consumed', () => groupState(suite.redis, env), drained);
    const r = await runCli(['replay', '--since', '1h', '--count', '3'], env);
    expect(r.code).toBe(0);
    const replayed = r.stdout
      .trimEnd()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event_id: string }).event_id);
    expect(replayed).toEqual(ids.slice(0, 3));
    expect(r.stderr).toContain('re-exported 3 events');
  });
});

describe('payflux backtest', () => {
  it('reads gzip-compressed input, by file and from standard input (-)', async () => {
    const text = `${[0, 1, 2, 3].map((i) => event(i, i % 2 === 0)).join('\n')}\n`;
    const file = join(suite.scratch(), 'events.ndjson.gz');
    writeFileSync(file, gzipSync(text));
    const fromFile = await runCli(['backtest', file], {});
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout.trimEnd().split('\n')).toHaveLength(4);
    const plain = await runWithInput(['backtest', '-'], text);
    const zipped = await runWithInput(['backtest', '-'], gzipSync(text));
    expect(plain.code).toBe(0);
    expect(zipped.code).toBe(0);
    const ids = (out: string) =>
      out
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { event_id: string }).event_id);
    expect(ids(plain.stdout)).toEqual(['bt-0', 'bt-1', 'bt-2', 'bt-3']);
    expect(ids(zipped.stdout)).toEqual(ids(plain.stdout));
    expect(ids(fromFile.stdout)).toEqual(ids(plain.stdout));
  });

  it('takes --model and --thresholds over the environment, as its report says', async () => {
    const dir = suite.scratch();
    const report = join(dir, 'report.json');
    const r = await runWithInput(
      ['backtest', '-', '--model', 'classic', '--thresholds', '0.2,0.5,0.9', '--report', report],
      event(0),
      {
        PAYFLUX_RISK_MODEL: 'adaptive',
      },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(readFileSync(report, 'utf8'))).toMatchObject({ model: 'classic', events: 1 });
  });

  it('refuses a --report path it could not write before reading any input', async () => {
    const r = await runWithInput(['backtest', '-', '--report', '/nonexistent-payflux-dir/report.json'], event(0));
    expect(r.code).toBe(64);
    expect(r.stderr).toContain("option '--report <path>' '/nonexistent-payflux-dir/report.json' cannot be written");
    expect(r.stdout).toBe('');
  });

  it('exits 1 naming the first problem when no line is an event', async () => {
    const r = await runWithInput(['backtest', '-'], 'not json\n{"event_id":"x"}\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('backtest: 0 events (2 skipped)');
    expect(r.stderr).toContain('backtest: no event in the input; line 1: line is not valid JSON');
  });
});

describe('payflux loadgen', () => {
  it('sends to the server HTTP_ADDR names when no --url is given, and ends with a summary', async () => {
    const env = await payfluxEnv(suite);
    await startPayflux(suite, env);
    const r = await runCli(['loadgen', '--duration', '2', '--rate', '100'], env, 15_000);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /loadgen: \d+ events sent, [1-9]\d* accepted in \d+\.\d s .*latency p50 .* ms .*errors none/,
    );
  });

  it('exits 1 when nothing got through, with the errors by reason', async () => {
    const r = await runCli(['loadgen', '--duration', '1', '--url', `http://127.0.0.1:${await freePort()}`], {}, 15_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('errors ECONNREFUSED ×');
    expect(r.stderr).toContain('loadgen: nothing got through');
  });
});

describe('the bin', () => {
  it('is executable and runs through its own shebang (what npx payflux runs)', async () => {
    accessSync(CLI, constants.X_OK);
    const c = spawn(CLI, ['--version'], {
      cwd: EMPTY_CWD,
      // `#!/usr/bin/env node` finds the node PayFlux runs on, as npm puts it first on the PATH.
      env: childEnv({ PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ''}` }),
    });
    let out = '';
    c.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    expect(await new Promise((resolve) => c.once('close', resolve))).toBe(0);
    expect(out).toBe(`${version}\n`);
  });
});
