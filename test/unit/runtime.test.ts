import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

interface PackageJson {
  readonly devDependencies: Readonly<Record<string, string>>;
}

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as PackageJson;
const major = (version: string): number => Number(/(\d+)/.exec(version)?.[1]);

describe('the Node.js PayFlux runs on', () => {
  it('is the node dev dependency’s major for the tests, their workers and what they spawn', () => {
    // `npm test` finds node_modules/.bin/node first on its PATH; workers and the CLI children
    // the tests spawn run on process.execPath, so they are the same binary.
    expect(major(process.versions.node)).toBe(major(pkg.devDependencies.node ?? ''));
    expect(major(process.versions.node)).toBeGreaterThanOrEqual(24);
  });
});
