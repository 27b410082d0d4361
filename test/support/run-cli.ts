/**
 * The built CLI (`node dist/cli.js`) as a child process: its path, the environment and working
 * directory every child gets, and one-shot commands run to completion.
 *
 * Needs `dist/` built (`npm test` builds it in pretest; `npx tsc -p tsconfig.build.json`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PayfluxEnv } from './payflux-env.js';

export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** An empty working directory for children, so that no stray `.env` is read. */
export const EMPTY_CWD = mkdtempSync(join(tmpdir(), 'payflux-cwd-'));

/** Only what node needs from the parent; nothing that could point PayFlux elsewhere. */
export function childEnv(env: PayfluxEnv): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ']) if (process.env[k] !== undefined) base[k] = process.env[k];
  return { ...base, ...env };
}

/** Run a one-shot CLI command (`dlq list`, `replay --since 1h`) to completion. */
export async function runCli(
  args: readonly string[],
  env: PayfluxEnv,
  timeoutMs = 15_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const c = spawn(process.execPath, [CLI, ...args], {
    cwd: EMPTY_CWD,
    env: childEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
  // 'close' (after the output is drained), not 'exit'.
  const code = await new Promise<number | null>((resolve) => c.once('close', (n: number | null) => resolve(n)));
  clearTimeout(timer);
  return { code, stdout, stderr };
}
