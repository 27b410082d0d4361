/**
 * API keys from files (`PAYFLUX_API_KEYS_FILE`, `PAYFLUX_REVOKED_KEYS_FILE`), read at start and
 * on every SIGHUP, on top of the keys in the environment.
 *
 * Why files: a running process's environment never changes, so with keys in the real
 * environment (a container, a systemd unit) SIGHUP could only reload the same keys. A file — a
 * Kubernetes secret mounted as a volume, a file the deploy tool rewrites — can change under a
 * running PayFlux, which is what rotation and revocation without a restart need.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.js';
import type { Logger } from 'pino';
import { loadConfig, type Config } from '../config.js';
import { weakKeyProblems } from '../config-keys.js';
import type { ApiKeys } from './api-keys.js';

type Environment = Readonly<Record<string, string | undefined>>;

export interface KeySet {
  readonly keys: readonly string[];
  readonly revoked: readonly string[];
}

/** The keys in a file: one per line or comma-separated; blank lines and `#` comments ignored. */
export function parseKeyFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, ''))
    .flatMap((line) => line.split(','))
    .map((k) => k.trim())
    .filter((k) => k !== '');
}

/**
 * The key set `config` describes: its keys plus those of its key files. Throws a ConfigError
 * naming the variable when a file cannot be read or, with PAYFLUX_ENV=prod, holds a weak key
 * (or there is no key at all). Never echoes a key.
 */
export function loadKeySet(config: Config): KeySet {
  const problems: string[] = [];
  const fromFile = (path: string | undefined, variable: string): string[] => {
    if (path === undefined) return [];
    try {
      return parseKeyFile(readFileSync(path, 'utf8'));
    } catch (err) {
      problems.push(
        `${variable}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      );
      return [];
    }
  };
  const fileKeys = fromFile(config.auth.keysFile, 'PAYFLUX_API_KEYS_FILE');
  const revokedFromFile = fromFile(config.auth.revokedKeysFile, 'PAYFLUX_REVOKED_KEYS_FILE');
  const keys = [...new Set([...config.auth.keys, ...fileKeys])];
  if (config.env === 'prod') {
    problems.push(...weakKeyProblems(fileKeys, 'PAYFLUX_API_KEYS_FILE'));
    if (keys.length === 0 && problems.length === 0)
      problems.push('PAYFLUX_API_KEYS: at least one key is required with PAYFLUX_ENV=prod');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return { keys, revoked: [...new Set([...config.auth.revokedKeys, ...revokedFromFile])] };
}

/** Whether two key sets hold the same keys (order aside). */
export function sameKeySet(a: KeySet, b: KeySet): boolean {
  const same = (x: readonly string[], y: readonly string[]): boolean =>
    x.length === y.length && x.every((k) => y.includes(k));
  return same(a.keys, b.keys) && same(a.revoked, b.revoked);
}

/**
 * SIGHUP for the keys: read the key set `env` describes and swap it into `apiKeys` when it
 * changed. An unreadable `.env` or key file (`env` may be a reader that throws) keeps the old
 * keys, with a log line saying so.
 */
export function createKeyReloader(
  initial: KeySet,
  apiKeys: ApiKeys,
  logger: Logger,
): (env: Environment | (() => Environment)) => void {
  let current = initial;
  return (env) => {
    try {
      const next = loadKeySet(loadConfig(typeof env === 'function' ? env() : env));
      if (sameKeySet(next, current)) {
        // Nothing to change: with keys in the process environment this is every SIGHUP.
        logger.warn(
          {
            keys: apiKeys.size,
            hint: 'keys in the process environment cannot change in a running process: use .env or PAYFLUX_API_KEYS_FILE',
          },
          'api_keys_unchanged',
        );
        return;
      }
      apiKeys.reload(next.keys, next.revoked);
      current = next;
      logger.info({ keys: apiKeys.size, revoked: next.revoked.length }, 'api_keys_reloaded');
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'reload_failed_keeping_old_keys');
    }
  };
}
