/**
 * Maps `geo_bucket` strings to bit positions so that a bucket's set of geos is a fixed 256-bit
 * mask (8 × uint32) instead of a `Set` per bucket.
 *
 * The first GEO_BITS distinct geos get a bit each (countries and regions fit comfortably);
 * beyond that, a geo is folded onto a bit by a string hash, so distinct counts can only be
 * under-estimated, never grow the table. One interner per processor of a window store.
 */

export const GEO_BITS = 256;
export const GEO_WORDS = GEO_BITS / 32;

export class GeoInterner {
  private readonly bits = new Map<string, number>();

  /** The bit for `geo`, in [0, GEO_BITS). */
  bitOf(geo: string): number {
    const known = this.bits.get(geo);
    if (known !== undefined) return known;
    if (this.bits.size < GEO_BITS) {
      const bit = this.bits.size;
      this.bits.set(geo, bit);
      return bit;
    }
    return fold(geo);
  }

  get size(): number {
    return this.bits.size;
  }

  /** The dictionary, for a checkpoint: [geo, bit] in assignment order. */
  entries(): [string, number][] {
    return [...this.bits];
  }

  /** Loads a dictionary from `entries()` into an empty interner. */
  load(entries: readonly (readonly [string, number])[]): void {
    for (const [geo, bit] of entries) this.bits.set(geo, bit);
  }
}

/** FNV-1a over UTF-16 code units, folded to a bit; only used once the table is full. */
function fold(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) % GEO_BITS;
}
