/**
 * Child processes of the benchmark: redis-server, PayFlux (`node dist/cli.js serve`) and the
 * baseline server. Every child is registered so that it is killed however the run ends:
 * normal end (stopped politely), error (finally), Ctrl-C, or `process.exit` (SIGKILL from the
 * 'exit' handler, the last resort).
 */
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'dist', 'cli.js');
export const BASELINE = join(ROOT, 'bench', 'baseline-server.js');

const children = new Set();

// The Node binary of every Node child (PayFlux, the baselines, risk.mjs, floors.mjs): `--node`
// puts another version under test while the load generator stays on the Node running run.js.
let childNode = process.execPath;

/** Run every later Node child with the binary at `path`. */
export function useChildNode(path) {
  childNode = path;
}

export function childNodePath() {
  return childNode;
}

function track(child) {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** SIGKILL everything still running; synchronous, so it also works inside process.on('exit'). */
export function killAllNow() {
  for (const c of children) {
    try {
      c.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  children.clear();
}
process.on('exit', killAllNow);

export async function freePort() {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => res(port));
    });
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Stop politely (SIGTERM; PayFlux then flushes and, with --cpu-prof, writes its profile), then SIGKILL. */
export async function stopChild(child, graceMs = 20_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

function tail(path, n = 30) {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** redis-server on a free loopback port, no persistence, in `dir`. */
export async function startRedis(dir) {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--daemonize',
    'no',
    '--loglevel',
    'notice',
  ];
  const child = track(spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
  await new Promise((res, rej) => {
    let out = '';
    const timer = setTimeout(() => rej(new Error(`redis-server did not start: ${out}`)), 10_000);
    const onData = (d) => {
      out += d.toString();
      if (/Ready to accept connections/i.test(out)) {
        clearTimeout(timer);
        child.stdout.removeAllListeners('data');
        child.stderr.removeAllListeners('data');
        child.stdout.resume();
        child.stderr.resume();
        res();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      rej(new Error(`cannot run redis-server: ${err.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`redis-server exited with ${code}: ${out}`));
    });
  });
  return { child, port, addr: `127.0.0.1:${port}`, stop: () => stopChild(child, 5000) };
}

/** The environment of a child: ours minus anything that would configure PayFlux or Redis. */
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('PAYFLUX_') || k.startsWith('REDIS_') || k === 'HTTP_ADDR' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  return env;
}

async function waitHealthy(url, child, logPath, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`process exited with ${child.exitCode} before answering:\n${tail(logPath)}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${tail(logPath)}`);
}

/**
 * `node dist/cli.js serve` with `env` on 127.0.0.1:<free port>, logs (stderr) to `<workDir>/<name>.log`.
 * `cpuProf`: a directory to write `<name>.cpuprofile` into when the process exits.
 * `nodeArgs`: extra Node flags (`--node-arg`, what-if runs such as `--trace-gc`); the child's
 * stdout then goes to its log too (every section exports to a file, so stdout only carries
 * what those flags print).
 * cwd is `workDir`, so a stray `.env` in the repository cannot change the configuration.
 */
export async function startPayflux({ name, env, workDir, cpuProf, nodeArgs: extra = [] }) {
  const port = await freePort();
  const logPath = join(workDir, `${name}.log`);
  const log = openSync(logPath, 'a');
  const nodeArgs = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf, '--cpu-prof-name', `${name}.cpuprofile`] : [];
  // MALLOC_MMAP_THRESHOLD_ as the Docker image and the systemd unit set it (docs/operations.md, Memory).
  const fullEnv = {
    ...cleanEnv(),
    MALLOC_MMAP_THRESHOLD_: '131072',
    PAYFLUX_LOG_LEVEL: 'warn',
    ...env,
    HTTP_ADDR: `127.0.0.1:${port}`,
  };
  const stdout = extra.length > 0 ? log : 'ignore';
  const child = track(
    spawn(childNode, [...nodeArgs, '--max-semi-space-size=16', ...extra, CLI, 'serve'], {
      cwd: workDir,
      env: fullEnv,
      stdio: ['ignore', stdout, log],
    }),
  );
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  // An exit we did not ask for is a finding: keep how it ended and the end of its log.
  let stopping = false;
  let crash;
  child.once('exit', (code, signal) => {
    if (!stopping) crash = { code, signal, logTail: tail(logPath, 15) };
  });
  await waitHealthy(`${url}/health`, child, logPath);
  return {
    child,
    pid: child.pid,
    port,
    url,
    logPath,
    crashed: () => crash,
    stop: () => {
      stopping = true;
      return stopChild(child);
    },
    logTail: () => tail(logPath),
  };
}

/**
 * A single-event baseline (bench/baseline-server.js) named `name`: with `redisAddr` and
 * `stream`, the minimal durable handler (one XADD per request); without, the empty handler.
 */
export async function startBaseline({ name, workDir, cpuProf, redisAddr, stream }) {
  const port = await freePort();
  const logPath = join(workDir, `${name}.log`);
  const log = openSync(logPath, 'a');
  const nodeArgs = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf, '--cpu-prof-name', `${name}.cpuprofile`] : [];
  const env = { ...cleanEnv(), BENCH_PORT: String(port) };
  if (redisAddr) Object.assign(env, { BENCH_REDIS_ADDR: redisAddr, BENCH_STREAM: stream });
  const child = track(
    spawn(childNode, [...nodeArgs, BASELINE], {
      cwd: workDir,
      env,
      stdio: ['ignore', log, log],
    }),
  );
  closeSync(log);
  const url = `http://127.0.0.1:${port}`;
  await waitHealthy(`${url}/health`, child, logPath);
  return { child, pid: child.pid, port, url, logPath, stop: () => stopChild(child, 5000) };
}

/**
 * `node dist/cli.js backtest <file> --report <report>` with stdout (the export lines) into
 * `outPath`; resolves { code, stderr, wallMs, pid }. `cpuProf` as for startPayflux.
 */
export async function runBacktestCli({ file, outPath, reportPath, workDir, cpuProf, env = {}, timeoutMs = 600_000 }) {
  const out = openSync(outPath, 'w');
  const nodeArgs = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf, '--cpu-prof-name', 'backtest.cpuprofile'] : [];
  const t0 = performance.now();
  const child = track(
    spawn(childNode, [...nodeArgs, CLI, 'backtest', file, '--report', reportPath], {
      cwd: workDir,
      env: { ...cleanEnv(), PAYFLUX_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', out, 'pipe'],
    }),
  );
  closeSync(out);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((r) => child.once('exit', (c, sig) => r(c ?? sig)));
  clearTimeout(t);
  return { code, stderr, wallMs: performance.now() - t0, pid: child.pid };
}

/** Run a node script to completion with a time limit; resolves { code, stdout, stderr }. */
export async function runScript(path, args, { cwd, timeoutMs }) {
  return runCommand(childNode, [path, ...args], { cwd, timeoutMs });
}

/** Run a program to completion with a time limit (SIGKILL after it); resolves { code, stdout, stderr }. */
export async function runCommand(file, args, { cwd, timeoutMs }) {
  const child = track(spawn(file, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  child.once('error', () => undefined);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise((r) => {
    child.once('exit', (c, sig) => r(c ?? sig));
    child.once('error', (err) => r(err.code ?? 'error'));
  });
  clearTimeout(t);
  return { code, stdout, stderr };
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); undefined elsewhere. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name.
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) of this process's children that have exited and been reaped
 * (`cutime` + `cstime` of /proc/self/stat): the cost of a short-lived child such as
 * redis-benchmark, whose own /proc entry is gone by the time it can be read. Linux only.
 */
export function reapedChildrenCpuSeconds() {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 of stat (cutime, cstime) are 13 and 14 after the command name.
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return undefined;
  }
}

/** A supervisor and its workers as CPU meter entries: `supervisor`, then `ingest`, `ingest2`, …, `consumer`, `consumer2`, …. */
export function workerProcesses(pid) {
  const out = { supervisor: pid };
  for (const c of childProcesses(pid)) {
    let name = c.role;
    for (let i = 2; name in out; i++) name = `${c.role}${i}`;
    out[name] = c.pid;
  }
  return out;
}

/** The children of a process and the PAYFLUX_ROLE each runs with, from /proc (Linux); [] elsewhere. */
function childProcesses(pid) {
  let pids = [];
  try {
    pids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
  return pids.map((child) => {
    let role = 'child';
    try {
      const env = readFileSync(`/proc/${child}/environ`, 'utf8').split('\0');
      role = env.find((e) => e.startsWith('PAYFLUX_ROLE='))?.slice('PAYFLUX_ROLE='.length) ?? role;
    } catch {
      // gone meanwhile
    }
    return { pid: child, role };
  });
}

/** Resident set size of a process in MB, from /proc (Linux); undefined elsewhere. */
export function rssMb(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}
