/**
 * The import direction the lint rules enforce (docs/architecture.md): a probe import in each
 * folder, linted with the project's own ESLint config, is refused or allowed as the map says.
 */
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
// Only the import rule, and no type information: the probe files do not exist.
const eslint = new ESLint({
  cwd: root,
  ruleFilter: ({ ruleId }) => ruleId === 'no-restricted-imports',
  overrideConfig: { languageOptions: { parserOptions: { projectService: false } } },
});

async function refused(file: string, line: string): Promise<boolean> {
  const [result] = await eslint.lintText(`${line}\n`, { filePath: `${root}${file}` });
  return (result?.messages ?? []).some((m) => m.ruleId === 'no-restricted-imports');
}

describe('the layering', () => {
  it.each([
    ['src/buffer/probe.ts', "import { buildServer } from '../http/server.js';"],
    ['src/operators/probe.ts', "import { Redis } from 'ioredis';"],
    ['src/operators/risk/probe.ts', "import { createExporter } from '../../sinks/exporter.js';"],
    ['src/sinks/probe.ts', "import { connectBuffer } from '../buffer/connect.js';"],
    ['src/pipeline/probe.ts', "import { createPilot } from '../pilot/pilot.js';"],
    ['src/http/probe.ts', "import { createExporter } from '../sinks/exporter.js';"],
    ['src/risk-api/probe.ts', "import { createPilot } from '../pilot/pilot.js';"],
    ['src/pilot/probe.ts', "import { start } from '../main.js';"],
    ['src/config.ts', "import { startConsumer } from './pipeline/consumer.js';"],
  ])('refuses %s: %s', async (file, line) => {
    expect(await refused(file, line)).toBe(true);
  });

  it.each([
    ['src/pipeline/probe.ts', "import { createExporter } from '../sinks/exporter.js';"],
    ['src/http/probe.ts', "import type { Exporter } from '../sinks/exporter.js';"],
    ['src/pilot/probe.ts', "import { routeGroup } from '../http/server.js';"],
    ['src/operators/probe.ts', "import type { Batch } from '../pipeline/types.js';"],
    ['src/main.ts', "import { createPilot } from './pilot/pilot.js';"],
  ])('allows %s: %s', async (file, line) => {
    expect(await refused(file, line)).toBe(false);
  });
});
