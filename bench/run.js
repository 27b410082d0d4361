#!/usr/bin/env node
/**
 * `npm run bench`: PayFlux's performance targets, each as its ratio to a baseline or ceiling
 * measured in the same invocation on the same Redis, with the machine named.
 *
 * Spawns its own redis-server (loopback, free port, no persistence), PayFlux (`node
 * dist/cli.js serve`, one process per section with the PAYFLUX_ROLE it needs) and the baseline
 * servers; reads Redis's C-client XADD ceiling (redis-benchmark) before and after the load
 * sections; the load generator runs in this process. Every load loop is bounded in time and in
 * count, the whole run by a watchdog, and every child is killed at the end, on error, on
 * Ctrl-C and when the watchdog fires.
 *
 *   node bench/run.js [--quick] [--only ingest,batch,e2e,drain,latency,soak,xadd,risk]
 *                     [--soak] [--drain-events N] [--profile] [--node PATH]
 *
 * Results: a table on stdout, bench/results/latest.json and bench/results/latest.md.
 * Nothing here imports src/: PayFlux is exercised over HTTP, Redis and its export file only.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchBacktest } from './lib/backtest-bench.js';
import { benchFloors } from './lib/floors-bench.js';
import { applyCeiling, benchXaddNode, measureCeiling } from './lib/ceiling.js';
import { benchBatch, benchIngest } from './lib/ingest-benches.js';
import { benchDrain } from './lib/drain-bench.js';
import { benchE2e, benchE2eAlternating } from './lib/e2e-bench.js';
import { benchLatency } from './lib/latency-bench.js';
import { benchSoak } from './lib/soak-bench.js';
import { CLI, ROOT, childNodePath, killAllNow, runScript, startRedis, useChildNode } from './lib/processes.js';
import { machineBusyCores, machineStealSeconds } from './lib/observe.js';
import { connect } from './lib/redis-load.js';
import { machineInfo, machineLine, textTable, writeReport } from './lib/report.js';
import { usage } from './lib/usage.js';

const SECTIONS = ['ingest', 'xadd', 'batch', 'e2e', 'drain', 'latency', 'risk', 'backtest', 'floors', 'soak'];
// Sections whose rows are ratios to the C-client XADD ceiling: with any of them, the ceiling is read first and last.
const CEILING_SECTIONS = ['xadd', 'batch', 'e2e', 'drain', 'floors'];
const RESULTS_DIR = join(ROOT, 'bench', 'results');
const RISK_SCRIPT = join(ROOT, 'bench', 'risk.mjs');

const USAGE = usage(SECTIONS);

function parseEnvFlags(list) {
  const env = {};
  for (const item of list) {
    const i = item.indexOf('=');
    if (i <= 0 || !/^[A-Z_][A-Z0-9_]*$/.test(item.slice(0, i))) {
      process.stderr.write(`--env expects KEY=VALUE, got "${item}"\n${USAGE}\n`);
      process.exit(64);
    }
    env[item.slice(0, i)] = item.slice(i + 1);
  }
  return env;
}

function options() {
  const { values: v } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      soak: { type: 'boolean', default: false },
      'drain-events': { type: 'string' },
      'drain-pack': { type: 'string' },
      'drain-consumers': { type: 'string' },
      'drain-rounds': { type: 'string' },
      'backtest-events': { type: 'string' },
      profile: { type: 'boolean', default: false },
      'keep-work-dir': { type: 'boolean', default: false },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      'batch-connections': { type: 'string' },
      'soak-seconds': { type: 'string' },
      'soak-rate': { type: 'string' },
      'wait-quiet': { type: 'string' },
      env: { type: 'string', multiple: true },
      'node-arg': { type: 'string', multiple: true },
      'latency-trace': { type: 'boolean', default: false },
      'e2e-split': { type: 'boolean', default: false },
      'e2e-workers': { type: 'string' },
      'e2e-rounds': { type: 'string' },
      node: { type: 'string' },
      out: { type: 'string', default: 'latest' },
      'max-minutes': { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const int = (name, def, min = 1) => {
    const raw = v[name];
    if (raw === undefined) return def;
    const n = Number(raw.replaceAll('_', '').replaceAll(',', ''));
    if (!Number.isInteger(n) || n < min) {
      process.stderr.write(`--${name} must be an integer ≥ ${min}\n${USAGE}\n`);
      process.exit(64);
    }
    return n;
  };
  const only = v.only
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of only ?? []) {
    if (!SECTIONS.includes(s)) {
      process.stderr.write(`unknown section "${s}" in --only\n${USAGE}\n`);
      process.exit(64);
    }
  }
  const q = v.quick;
  const selected = new Set(only ?? SECTIONS.filter((s) => s !== 'soak' || v.soak));
  if (v.soak) selected.add('soak');
  if (selected.has('batch') || selected.has('e2e')) selected.add('xadd');
  if (v.node !== undefined && !existsSync(v.node)) {
    process.stderr.write(`--node: no such file "${v.node}"\n${USAGE}\n`);
    process.exit(64);
  }
  if (!/^[\w.-]+$/.test(v.out)) {
    process.stderr.write(`--out takes a plain name (letters, digits, . _ -), got "${v.out}"\n${USAGE}\n`);
    process.exit(64);
  }
  const soakSeconds = int('soak-seconds', q ? 60 : 600, 20);
  return {
    quick: q,
    selected,
    profile: v.profile,
    keepWorkDir: v['keep-work-dir'],
    connections: int('connections', 100),
    pipelining: int('pipelining', 1),
    ingestWarmS: q ? 1 : 3,
    ingestRoundS: q ? 2 : 5,
    ingestRounds: q ? 2 : 3,
    xaddSeconds: q ? 2 : 5,
    batchSize: 500,
    batchConnections: int('batch-connections', 8),
    batchWarmS: q ? 1 : 2,
    batchSeconds: q ? 3 : 10,
    e2eWarmS: q ? 1 : 2,
    e2eSeconds: q ? 3 : 10,
    drainEvents: int('drain-events', q ? 100_000 : 1_000_000),
    drainPack: int('drain-pack', 500),
    drainConsumers: int('drain-consumers', 1),
    drainRounds: int('drain-rounds', 2, 1),
    backtestEvents: int('backtest-events', q ? 100_000 : 1_000_000),
    latencyRate: 10_000,
    latencyBatch: 50,
    latencyTickMs: 10,
    latencyWarmS: q ? 1 : 3,
    latencySeconds: q ? 5 : 20,
    latencyTrace: v['latency-trace'],
    soakSeconds,
    soakRate: v['soak-rate'] === undefined ? undefined : int('soak-rate', 1),
    waitQuietS: int('wait-quiet', 0, 0),
    payfluxEnv: parseEnvFlags(v.env ?? []),
    nodeArgs: v['node-arg'] ?? [],
    e2eSplit: v['e2e-split'],
    e2eWorkers: int('e2e-workers', 2),
    e2eRounds: int('e2e-rounds', 2, 1),
    node: v.node,
    out: v.out,
    maxMinutes: int('max-minutes', 30 + (selected.has('soak') ? Math.ceil(soakSeconds / 60) : 0)),
  };
}

const RISK_MAX_NS = 400;

/** 8. bench/risk.mjs (the in-process risk-window benchmark), when it exists: its last line. */
async function benchRisk(ctx) {
  if (!existsSync(RISK_SCRIPT))
    return [
      {
        id: 'risk',
        what: 'risk window + enrichment cost (bench/risk.mjs)',
        skipped: true,
        note: 'bench/risk.mjs does not exist yet',
      },
    ];
  ctx.log('risk: running bench/risk.mjs');
  const r = await runScript(RISK_SCRIPT, ctx.opts.quick ? ['--quick'] : [], { cwd: ROOT, timeoutMs: 300_000 });
  const lines = r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const last = lines[lines.length - 1] ?? '';
  let ns;
  try {
    const j = JSON.parse(last);
    const key =
      typeof j.ns_per_event === 'number'
        ? 'ns_per_event'
        : Object.keys(j).find((k) => /ns/i.test(k) && typeof j[k] === 'number');
    ns = key === undefined ? undefined : j[key];
  } catch {
    const m = /([\d.,]+)\s*ns/.exec(last);
    ns = m ? Number(m[1].replaceAll(',', '')) : undefined;
  }
  return [
    {
      id: 'risk',
      what: 'risk window + enrichment cost (bench/risk.mjs)',
      value: ns,
      unit: 'ns/event',
      display: ns === undefined ? last.slice(0, 120) || `exit ${r.code}` : `${ns} ns/event`,
      target: `≤ ${RISK_MAX_NS} ns/event`,
      pass: r.code === 0 && ns !== undefined ? ns <= RISK_MAX_NS : false,
      note: `bench/risk.mjs said: ${last}${r.code === 0 ? '' : ` (exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')})`}`,
      details: { exitCode: r.code, output: lines.slice(-10) },
    },
  ];
}

let workDirToRemove;

/**
 * Cores used by other processes before we start (sampled over 2 s), waiting up to `waitS` for
 * them to drop under 0.2. Other load on a 2-core machine moves every number: it is reported.
 */
async function quietEnough(waitS, log) {
  const deadline = performance.now() + waitS * 1000;
  let quietInARow = 0;
  for (;;) {
    const busy = await machineBusyCores(2000);
    if (busy === undefined) return undefined;
    quietInARow = busy < 0.2 ? quietInARow + 1 : 0;
    // Quiet for 3 samples in a row (6 s), or out of patience.
    if (quietInARow >= 3 || waitS === 0 || performance.now() >= deadline) {
      if (busy >= 0.2)
        log(
          `WARNING: other processes keep ${busy} cores busy: results will be low and noisy (see "other" in the CPU figures)`,
        );
      return busy;
    }
    if (quietInARow === 0) log(`waiting for a quiet machine: ${busy} cores busy elsewhere`);
  }
}

const RUNNERS = {
  ingest: benchIngest,
  xadd: benchXaddNode,
  batch: benchBatch,
  e2e: async (ctx) => [
    ...(ctx.opts.e2eWorkers > 1 ? await benchE2eAlternating(ctx) : await benchE2e(ctx)),
    ...(ctx.opts.e2eSplit ? await benchE2e(ctx, 'split') : []),
  ],
  drain: benchDrain,
  latency: benchLatency,
  soak: benchSoak,
  risk: benchRisk,
  backtest: benchBacktest,
  floors: benchFloors,
};

/** The Node version of `path` (`--node`), or this process's. */
function nodeVersion(path) {
  if (path === process.execPath) return process.version;
  return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
}

async function main() {
  const opts = options();
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first (npm run bench does)`);
  if (opts.node) useChildNode(opts.node);
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nthe run passed --max-minutes ${opts.maxMinutes}: stopping every child process\n`);
    killAllNow();
    if (workDirToRemove) rmSync(workDirToRemove, { recursive: true, force: true });
    process.exit(1);
  }, opts.maxMinutes * 60_000);
  watchdog.unref();
  const workDir = mkdtempSync(join(tmpdir(), 'payflux-bench-'));
  workDirToRemove = workDir;
  const profDir = opts.profile ? join(RESULTS_DIR, 'profiles.tmp') : undefined;
  if (profDir) mkdirSync(profDir, { recursive: true });
  const log = (msg) => process.stderr.write(`${msg}\n`);
  const results = [];
  let redisServer;
  let redis;
  let failed;
  try {
    redisServer = await startRedis(join(workDir, 'redis'));
    redis = connect(redisServer.port);
    const version = /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? 'unknown';
    const ctx = {
      opts,
      workDir,
      profDir,
      log,
      redis,
      redisAddr: redisServer.addr,
      redisPid: redisServer.child.pid,
      key: `bench-${Date.now().toString(36)}-key-0123456789`,
      cores: cpus().length,
    };
    const machine = machineInfo(version, nodeVersion(childNodePath()));
    log(
      `PayFlux bench (${opts.quick ? 'quick' : 'full'}): ${[...opts.selected].join(', ')}; children on Node ${machine.childNode}; redis ${version} on ${redisServer.addr}; work dir ${workDir}`,
    );
    machine.backgroundCpuAtStart = await quietEnough(opts.waitQuietS, log);
    const steal0 = machineStealSeconds();
    const t0 = performance.now();
    const step = async (name, run) => {
      const t = performance.now();
      try {
        results.push(...[await run(ctx)].flat());
      } catch (err) {
        log(`${name}: FAILED: ${err.stack ?? err.message}`);
        results.push({
          id: name,
          what: name,
          pass: false,
          value: NaN,
          display: 'error',
          note: `error: ${err.message.split('\n')[0]}`,
        });
        failed ??= err;
      }
      log(`  (${name} took ${((performance.now() - t) / 1000).toFixed(1)}s)`);
    };
    const withCeiling = CEILING_SECTIONS.some((s) => opts.selected.has(s));
    if (withCeiling) await step('ceiling_before', (c) => measureCeiling(c, 'before'));
    // The soak runs last, after the ceiling's second reading: the risk stage and the backtest
    // read 10–25 % slower right after it than a minute later (bench/README.md, Latest results).
    for (const section of SECTIONS) {
      if (section !== 'soak' && opts.selected.has(section)) await step(section, RUNNERS[section]);
    }
    if (withCeiling) await step('ceiling_after', (c) => measureCeiling(c, 'after'));
    if (opts.selected.has('soak')) await step('soak', RUNNERS.soak);
    else
      results.push({
        id: 'soak',
        what: 'RSS under sustained load (10-minute soak)',
        skipped: true,
        target: 'RSS ≤ 250 MB, flat',
        note: 'skipped: run with --soak',
      });
    const ceiling = applyCeiling(results);
    const steal1 = machineStealSeconds();
    if (steal0 !== undefined && steal1 !== undefined)
      machine.stealCoresDuringRun = Math.round(((steal1 - steal0) / ((performance.now() - t0) / 1000)) * 100) / 100;
    const report = {
      mode: `${opts.quick ? 'quick smoke run, not comparable' : opts.selected.size < SECTIONS.length - 1 ? 'subset' : 'full'}${Object.keys(opts.payfluxEnv).length > 0 ? ` (what-if: ${JSON.stringify(opts.payfluxEnv)})` : ''}`,
      machine,
      ceiling: ceiling === undefined ? null : Math.round(ceiling),
      settings: { ...opts, selected: [...opts.selected] },
      results,
    };
    writeReport(RESULTS_DIR, opts.out, report);
    process.stdout.write(
      `\n${textTable(results)}\n\nMachine: ${machineLine(machine)}\nWritten: bench/results/${opts.out}.json, bench/results/${opts.out}.md\n`,
    );
    if (!opts.selected.has('soak'))
      process.stdout.write('Soak skipped (run with --soak for the 10-minute RSS soak).\n');
  } finally {
    await redis?.quit().catch(() => redis.disconnect());
    await redisServer?.stop();
    killAllNow();
    if (opts.keepWorkDir) process.stderr.write(`work dir kept: ${workDir}\n`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  if (failed) process.exitCode = 1;
}

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping every child process\n`);
    killAllNow();
    if (workDirToRemove && !process.argv.includes('--keep-work-dir'))
      rmSync(workDirToRemove, { recursive: true, force: true });
    else if (workDirToRemove) process.stderr.write(`work dir kept: ${workDirToRemove}\n`);
    process.exit(130);
  });
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err.stack ?? err.message}\n`);
  killAllNow();
  process.exit(1);
});
