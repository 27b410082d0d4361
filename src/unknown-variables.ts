/** `PAYFLUX_*` variables set but never read, each with the variable it most likely meant. */
import { ENV_VARS } from './config.js';
import { WORKER_LISTENS_VAR } from './config-types.js';

/**
 * `PAYFLUX_*` variables in `env` that PayFlux does not read (a typo is otherwise silently
 * ignored), each with the closest variable it does read when one is near: `PAYFLUX_TEIR` →
 * `PAYFLUX_TIER`.
 */
export function unknownVariables(
  env: Readonly<Record<string, string | undefined>>,
): { readonly name: string; readonly suggestion: string | undefined }[] {
  const known = new Set([...ENV_VARS, WORKER_LISTENS_VAR]);
  return Object.keys(env)
    .filter((name) => name.startsWith('PAYFLUX_') && !known.has(name))
    .sort()
    .map((name) => {
      let best: string | undefined;
      let bestDistance = Math.max(2, Math.floor(name.length / 6));
      for (const candidate of ENV_VARS) {
        const d = editDistance(name, candidate);
        if (d <= bestDistance) [best, bestDistance] = [candidate, d - 1];
      }
      return { name, suggestion: best };
    });
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) (rows[0] as number[])[j] = j;
  for (let i = 1; i <= a.length; i++) {
    const row = rows[i] as number[];
    const up = rows[i - 1] as number[];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, ((rows[i - 2] as number[])[j - 2] as number) + 1);
      row[j] = d;
    }
  }
  return (rows[a.length] as number[])[b.length] as number;
}
