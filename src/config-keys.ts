/** Key hygiene for PAYFLUX_ENV=prod: keys too short or reading as placeholders are refused. */

/**
 * Words that mark a key as a placeholder nobody should run production with (the documentation's
 * examples among them), matched in the key lowercased with everything but letters and
 * digits removed: `dev-key-change-me-0001` and `YOUR_API_KEY_HERE` are both caught, while a
 * random key contains one of these by chance with negligible probability.
 */
export const PLACEHOLDER_WORDS: readonly string[] = [
  'changeme',
  'changethis',
  'replaceme',
  'placeholder',
  'example',
  'yourapikey',
  'yourkey',
  'apikeyhere',
  'devkey',
  'testkey',
  'secret',
  'password',
];

/** Whether `key` reads as a placeholder (see PLACEHOLDER_WORDS). */
export function isPlaceholderKey(key: string): boolean {
  const letters = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return PLACEHOLDER_WORDS.some((w) => letters.includes(w));
}

/** With PAYFLUX_ENV=prod: what is wrong with `keys` (too short, placeholders), never echoing a key. */
export function weakKeyProblems(keys: readonly string[], variable: string): string[] {
  const problems: string[] = [];
  for (const k of keys) {
    // Never echo the key itself into an error: at most its length.
    if (k.length < 16)
      problems.push(`${variable}: a key of ${k.length} chars is too short for PAYFLUX_ENV=prod (min 16)`);
    else if (isPlaceholderKey(k)) problems.push(`${variable}: a placeholder key is not allowed with PAYFLUX_ENV=prod`);
  }
  return problems;
}
