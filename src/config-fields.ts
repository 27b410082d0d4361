/**
 * Field builders for the configuration schema: strings from the environment to typed values,
 * with messages that say what the value must be. Blank values count as unset.
 */
import { z } from 'zod';

export const blankToUndefined = (v: unknown): unknown =>
  typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v;

/** A whole number from `min` to `max`, as text. */
function wholeNumber(min: number, max: number) {
  return z
    .string()
    .regex(/^-?\d+$/, { message: 'must be a whole number' })
    .transform(Number)
    .pipe(
      z
        .number()
        .min(min, { message: `must be ≥ ${min}` })
        .max(max, { message: `must be ≤ ${max}` }),
    );
}

export function int(def: number, min: number, max: number) {
  return z.preprocess(blankToUndefined, wholeNumber(min, max).default(def));
}

/** A whole number whose default depends on other variables (undefined when unset). */
export function optionalInt(min: number, max: number) {
  return z.preprocess(blankToUndefined, wholeNumber(min, max).optional());
}

export function bool(def: boolean) {
  return z.preprocess(
    (v) => {
      const s = blankToUndefined(v);
      return typeof s === 'string' ? s.toLowerCase() : s;
    },
    z
      .enum(['true', 'false', '1', '0'], { message: 'must be one of true, false, 1, 0' })
      .transform((s) => s === 'true' || s === '1')
      .default(def),
  );
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, def: T[number]) {
  return z.preprocess(
    blankToUndefined,
    z.enum(values, { message: `must be one of ${values.join(', ')}` }).default(def),
  );
}

export function optionalString() {
  return z.preprocess(blankToUndefined, z.string().optional());
}

export function csv(def: string) {
  return z.preprocess(
    (v) => blankToUndefined(v) ?? def,
    z.string().transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    ),
  );
}

export function optionalUrl() {
  return z.preprocess(blankToUndefined, z.url({ message: 'must be an http(s) URL', protocol: /^https?$/ }).optional());
}
