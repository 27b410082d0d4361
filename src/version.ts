/**
 * PayFlux's version, read once from the package's own package.json (one directory above both
 * `src/` and `dist/`), for `payflux_build_info` and the OpenAPI document.
 */
import { readFileSync } from 'node:fs';

function readVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

export const VERSION: string = readVersion();
