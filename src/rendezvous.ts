/** Rendezvous hashing of partitions over consumer names, and names that split them evenly. */
import { createHash } from 'node:crypto';

/** The rendezvous owner of `partition` among `members` (sorted): highest hash of member + partition. */
export function rendezvousOwner(partition: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    const score = createHash('sha1').update(m).update('\0').update(partition).digest().readUIntBE(0, 6);
    if (score > bestScore) {
      best = m;
      bestScore = score;
    }
  }
  return best;
}

/** Tries before settling for the most even split found. */
const MAX_SALTS = 1000;

/**
 * Names for `count` consumers of one node, `<base>-<index>` (or `<base>-<salt>-<index>`, the
 * first salt that does better), that rendezvous hashing gives as even a share of `partitions`
 * as there is among themselves: by their names alone, four partitions fall 3:1 or 4:0 over two
 * consumers five times in eight. Deterministic, so a node restarted with the same
 * configuration takes the same names (and adopts its own pending entries).
 */
export function balancedNames(base: string, count: number, partitions: readonly string[]): string[] {
  const evenSpread = partitions.length % count === 0 ? 0 : 1;
  let best: { names: string[]; spread: number } | undefined;
  for (let salt = 0; salt < MAX_SALTS; salt++) {
    const names = Array.from({ length: count }, (_, i) => (salt === 0 ? `${base}-${i}` : `${base}-${salt}-${i}`));
    const load = new Map(names.map((n) => [n, 0]));
    for (const p of partitions) {
      const owner = rendezvousOwner(p, names) ?? '';
      load.set(owner, (load.get(owner) ?? 0) + 1);
    }
    const spread = Math.max(...load.values()) - Math.min(...load.values());
    if (best === undefined || spread < best.spread) best = { names, spread };
    if (spread <= evenSpread) break;
  }
  return best?.names ?? [];
}
