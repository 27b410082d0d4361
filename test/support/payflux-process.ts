/**
 * PayFlux as a real child process for integration tests: `node dist/cli.js serve` with an
 * environment the test gives (payflux-env.ts), on a free loopback port. Collects stdout lines
 * (the export), keeps the tail of stderr (the logs) for failure messages, can be signalled,
 * killed and restarted with the same environment (same port, so producers keep their URL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { parseExportLine, type ExportLine } from './export-lines.js';
import type { PayfluxEnv } from './payflux-env.js';
import { poll } from './poll.js';
import { CLI, EMPTY_CWD, childEnv } from './run-cli.js';
import type { Suite } from './use-suite.js';

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface PayfluxProcess {
  readonly env: PayfluxEnv;
  readonly url: string;
  readonly pid: number;
  /** Complete stdout lines of every generation of this process (restarts append). */
  readonly lines: readonly string[];
  /** The last stderr lines (logs), for failure messages. */
  stderrTail(): string;
  /** Every stderr line (the last 10,000 at least). */
  stderrLines(): readonly string[];
  /** Stdout lines parsed as JSON; throws on a line that is not JSON. */
  exported(): ExportLine[];
  alive(): boolean;
  /** Resolves when the current generation exits. */
  exited(): Promise<Exit>;
  signal(sig: NodeJS.Signals): void;
  /** Send `sig` and wait for the exit. */
  stop(sig?: NodeJS.Signals): Promise<Exit>;
  /** Start a new generation with the same environment (after the previous one exited). */
  restart(): Promise<void>;
  /** Stop reading the child's stdout or stderr, as a reader that stopped reading: the pipe fills. */
  pauseOutput(which: 'stdout' | 'stderr'): void;
  resumeOutput(which: 'stdout' | 'stderr'): void;
}

export interface StartOptions {
  readonly readyTimeoutMs?: number;
  /** The child's working directory (where it reads `.env`); by default an empty one. */
  readonly cwd?: string;
  /** Resolve once spawned, without waiting for `server_listening` and `/health`. */
  readonly noWait?: boolean;
}

/**
 * Spawn `payflux serve` and wait until it logged `server_listening` and `/health` answers 200.
 * Whatever generation still runs after the test is killed (SIGKILL).
 */
export async function startPayflux(s: Suite, env: PayfluxEnv, o: StartOptions = {}): Promise<PayfluxProcess> {
  const url = `http://${env.HTTP_ADDR ?? ''}`;
  const lines: string[] = [];
  const stderr: string[] = [];
  let child!: ChildProcess;
  let exit!: Promise<Exit>;

  const spawnOne = async (): Promise<void> => {
    const c = spawn(process.execPath, [CLI, 'serve'], {
      cwd: o.cwd ?? EMPTY_CWD,
      env: childEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    // 'close', not 'exit': it comes once stdout and stderr are drained, so `lines` is complete.
    exit = new Promise((resolve) =>
      c.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })),
    );
    let partial = '';
    c.stdout?.setEncoding('utf8');
    c.stdout?.on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) lines.push(p);
    });
    let errPartial = '';
    // Our child's own word that it listens: /health alone could be answered by another
    // process that took the port first (tests in parallel), while ours failed to bind.
    let listening = false;
    c.stderr?.setEncoding('utf8');
    c.stderr?.on('data', (d: string) => {
      const parts = (errPartial + d).split('\n');
      errPartial = parts.pop() ?? '';
      if (!listening) listening = parts.some((l) => l.includes('"msg":"server_listening"'));
      stderr.push(...parts);
      if (stderr.length > 20_000) stderr.splice(0, stderr.length - 10_000);
    });
    if (o.noWait) return;
    let exited: Exit | undefined;
    void exit.then((e) => (exited = e));
    await poll(
      'payflux to become healthy',
      async () => {
        if (exited)
          throw new Error(`payflux exited (${JSON.stringify(exited)}) before it was healthy:\n${stderr.join('\n')}`);
        const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        return res?.status === 200 && listening;
      },
      (healthy) => healthy,
      { timeoutMs: o.readyTimeoutMs ?? 15_000, context: () => stderr.join('\n') },
    );
  };
  // Registered before the first spawn, so that a child that never became healthy dies too.
  s.defer(async () => {
    const current = child as ChildProcess | undefined;
    if (current === undefined) return;
    if (current.exitCode === null && current.signalCode === null) current.kill('SIGKILL');
    await exit;
  });
  await spawnOne();

  const p: PayfluxProcess = {
    env,
    url,
    get pid() {
      return child.pid ?? -1;
    },
    lines,
    stderrTail: () => stderr.slice(-60).join('\n'),
    stderrLines: () => stderr,
    exported: () => lines.map(parseExportLine),
    alive: () => child.exitCode === null && child.signalCode === null,
    exited: () => exit,
    signal(sig) {
      child.kill(sig);
    },
    async stop(sig = 'SIGTERM') {
      if (p.alive()) child.kill(sig);
      return exit;
    },
    async restart() {
      if (p.alive()) throw new Error('restart() needs the previous generation to have exited');
      await spawnOne();
    },
    pauseOutput(which) {
      child[which]?.pause();
    },
    resumeOutput(which) {
      child[which]?.resume();
    },
  };
  return p;
}
