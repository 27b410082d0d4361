/** The part of `payflux <command> --help` that lists the environment variables a command reads. */
import { envDefault, type EnvVar } from './config.js';
import { ENV_MEANINGS } from './env-example.js';

/** `Environment:` then one `NAME  default  meaning` line per variable (`–`: no default). */
export function envHelp(names: readonly EnvVar[]): string {
  const width = Math.max(...names.map((n) => n.length));
  const defaults = names.map((n) => envDefault(n) ?? '–');
  const dwidth = Math.min(32, Math.max(...defaults.map((d) => d.length)));
  const rows = names.map((n, i) => `  ${n.padEnd(width)}  ${(defaults[i] ?? '–').padEnd(dwidth)}  ${ENV_MEANINGS[n]}`);
  return `\nEnvironment (name, default, meaning), also read from .env in the working directory (the environment wins):\n${rows.join('\n')}\n`;
}
