/** PayFlux's version: package.json's, read once (the file sits next to `src/` and `dist/` alike). */
import { readFileSync } from 'node:fs';

export const VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
