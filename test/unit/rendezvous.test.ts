import { describe, expect, it } from 'vitest';
import { balancedNames, rendezvousOwner } from '../../src/rendezvous.js';

const PROCESSORS = ['stripe', 'adyen', 'checkout', 'internal'];

/** How many of `partitions` each of `names` owns. */
function shares(names: readonly string[], partitions: readonly string[]): number[] {
  return names.map((n) => partitions.filter((p) => rendezvousOwner(p, names) === n).length);
}

describe('balancedNames', () => {
  it('gives each consumer of a node an even share of the partitions, under names from its base', () => {
    let unevenByIndex = 0;
    for (let i = 0; i < 40; i++) {
      const base = `host-${i}`;
      if (new Set(shares([`${base}-0`, `${base}-1`], PROCESSORS)).size > 1) unevenByIndex++;
      const two = balancedNames(base, 2, PROCESSORS);
      expect(shares(two, PROCESSORS)).toEqual([2, 2]);
      expect(two.every((n, k) => n.startsWith(`${base}-`) && n.endsWith(`-${k}`))).toBe(true);
      const three = shares(balancedNames(base, 3, PROCESSORS), PROCESSORS);
      expect(Math.max(...three) - Math.min(...three)).toBeLessThanOrEqual(1);
    }
    // The plain `<base>-<index>` names split four partitions unevenly most of the time.
    expect(unevenByIndex).toBeGreaterThan(10);
  });

  it('is the same names for the same base, count and partitions (a restarted node keeps them)', () => {
    expect(balancedNames('node-a', 2, PROCESSORS)).toEqual(balancedNames('node-a', 2, PROCESSORS));
  });
});
