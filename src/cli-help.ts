/** The part of `payflux <command> --help` that lists the environment variables a command reads. */
import { ENV_DEFAULTS } from './config.js';

/** `Environment (default):` then one `NAME  default` line per variable (`–` when none). */
export function envHelp(names: readonly string[]): string {
  const width = Math.max(...names.map((n) => n.length));
  const rows = names.map((n) => `  ${n.padEnd(width)}  ${ENV_DEFAULTS[n] || '–'}`);
  return `\nEnvironment (default), also read from .env in the working directory (the environment wins):\n${rows.join('\n')}\n`;
}
