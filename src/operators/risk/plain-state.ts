/**
 * A generic JSON round-trip of plain state objects, for checkpoints: `toPlain` turns an object's
 * own fields into JSON-safe values, `restoreInto` writes them back into a freshly constructed
 * object of the same class. No per-class code: a field added to a stateful class (the risk
 * window, an incident) is checkpointed without anyone listing it.
 *
 *   number          → itself, or {"$n":"Infinity"|"-Infinity"|"NaN"}
 *   typed array     → {"$t":"Float64Array","d":[…numbers as above]}   (restored with .set)
 *   Map             → {"$m":[[key, value], …]}
 *   undefined       → {"$u":1}
 *   array, object   → element- / field-wise (functions are skipped)
 *
 * Bounds: the state is what the object holds (a processor window is ~31 slots × 8 arrays plus
 * 2 × 256 geo counters: about 4 KB of JSON).
 */

export type Plain = null | boolean | number | string | Plain[] | { [key: string]: Plain };

type TypedArray =
  Float64Array | Float32Array | Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

const TYPED: Readonly<Record<string, new (n: number) => TypedArray>> = {
  Float64Array,
  Float32Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
};

function num(n: number): Plain {
  return Number.isFinite(n) ? n : { $n: String(n) };
}

function unnum(v: Plain): number {
  if (typeof v === 'number') return v;
  if (v !== null && typeof v === 'object' && !Array.isArray(v) && typeof v.$n === 'string') return Number(v.$n);
  throw new TypeError(`not a number in a checkpoint: ${JSON.stringify(v)}`);
}

/** The JSON-safe form of `value` (see the module comment). */
export function toPlain(value: unknown): Plain {
  if (value === null) return null;
  if (value === undefined) return { $u: 1 };
  if (typeof value === 'number') return num(value);
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = value as TypedArray;
    const d: Plain[] = new Array<Plain>(arr.length);
    for (let i = 0; i < arr.length; i++) d[i] = num(arr[i] as number);
    return { $t: arr.constructor.name, d };
  }
  if (Array.isArray(value)) return value.map(toPlain);
  if (value instanceof Map) return { $m: [...value].map(([k, v]) => [toPlain(k), toPlain(v)]) };
  if (typeof value === 'object') {
    const out: { [key: string]: Plain } = {};
    for (const [k, v] of Object.entries(value)) if (typeof v !== 'function') out[k] = toPlain(v);
    return out;
  }
  throw new TypeError(`cannot checkpoint a ${typeof value}`);
}

/** A fresh value from its plain form (typed arrays and Maps rebuilt, objects as plain objects). */
export function fromPlain(p: Plain): unknown {
  if (p === null || typeof p !== 'object') return p;
  if (Array.isArray(p)) return p.map(fromPlain);
  if (p.$u === 1) return undefined;
  if (typeof p.$n === 'string') return Number(p.$n);
  if (typeof p.$t === 'string' && Array.isArray(p.d)) {
    const Ctor = TYPED[p.$t];
    if (Ctor === undefined) throw new TypeError(`unknown typed array ${p.$t} in a checkpoint`);
    const arr = new Ctor(p.d.length);
    for (let i = 0; i < p.d.length; i++) arr[i] = unnum(p.d[i] as Plain);
    return arr;
  }
  if (Array.isArray(p.$m))
    return new Map((p.$m as Plain[][]).map(([k, v]) => [fromPlain(k ?? null), fromPlain(v ?? null)]));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(p)) out[k] = fromPlain(v);
  return out;
}

/**
 * Writes the fields of `p` (from `toPlain` of an object of the same class) into `target`:
 * typed arrays in place (same length required), everything else assigned. Fields `target`
 * has that `p` lacks keep their constructed value.
 */
export function restoreInto(target: object, p: Plain): void {
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new TypeError('a checkpoint holds an object');
  const t = target as Record<string, unknown>;
  for (const [k, v] of Object.entries(p)) {
    const cur = t[k];
    if (ArrayBuffer.isView(cur) && !(cur instanceof DataView)) {
      const arr = fromPlain(v);
      const dst = cur as TypedArray;
      if (!ArrayBuffer.isView(arr) || (arr as TypedArray).length !== dst.length)
        throw new TypeError(`checkpoint field ${k} does not fit (another window size?)`);
      dst.set(arr as unknown as ArrayLike<number>);
    } else t[k] = fromPlain(v);
  }
}
