// Writes .env.example from the configuration schema (src/env-example.ts, built into dist/).
// Run through `npm run env-example`, which builds first.
import { writeFileSync } from 'node:fs';
import { renderEnvExample } from '../dist/env-example.js';

writeFileSync(new URL('../.env.example', import.meta.url), renderEnvExample());
