import { describe, expect, it } from 'vitest';
import { GEO_BITS, GeoInterner } from '../../../../src/operators/risk/geo-interner.js';

describe('GeoInterner', () => {
  it('gives each of the first GEO_BITS geos its own bit, stably', () => {
    const g = new GeoInterner();
    const bits = Array.from({ length: GEO_BITS }, (_, i) => g.bitOf(`geo-${i}`));
    expect(new Set(bits).size).toBe(GEO_BITS);
    expect(g.bitOf('geo-7')).toBe(bits[7]);
  });

  it('folds further geos onto existing bits without growing', () => {
    const g = new GeoInterner();
    for (let i = 0; i < 10_000; i++) {
      const bit = g.bitOf(`geo-${i}`);
      expect(bit).toBeGreaterThanOrEqual(0);
      expect(bit).toBeLessThan(GEO_BITS);
    }
    expect(g.size).toBe(GEO_BITS);
    expect(g.bitOf('geo-9999')).toBe(g.bitOf('geo-9999'));
  });
});
