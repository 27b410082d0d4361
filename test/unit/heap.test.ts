import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { YOUNG_GENERATION_FLAG, youngGenerationSet } from '../../src/heap.js';

describe('the young generation flag', () => {
  it('is seen on the command line or in NODE_OPTIONS, whatever its value', () => {
    expect(youngGenerationSet([YOUNG_GENERATION_FLAG], undefined)).toBe(true);
    expect(youngGenerationSet(['--max-semi-space-size', '8'], undefined)).toBe(true);
    expect(youngGenerationSet([], `--enable-source-maps ${YOUNG_GENERATION_FLAG}`)).toBe(true);
    expect(youngGenerationSet(['--cpu-prof'], '--enable-source-maps')).toBe(false);
    expect(youngGenerationSet([], undefined)).toBe(false);
  });

  it('is passed by every way PayFlux is started: the bin, npm start, the image, the systemd unit', () => {
    const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');
    expect(read('src/cli.ts').split('\n')[0]).toContain(YOUNG_GENERATION_FLAG);
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toContain(YOUNG_GENERATION_FLAG);
    expect(read('Dockerfile')).toContain(`"${YOUNG_GENERATION_FLAG}"`);
    expect(read('deploy/systemd/payflux.service')).toMatch(
      new RegExp(`^ExecStart=\\S+ ${YOUNG_GENERATION_FLAG} `, 'm'),
    );
  });
});
