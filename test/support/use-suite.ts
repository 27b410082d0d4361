/**
 * The one shape of test set-up: `const suite = useX()` at the top of a file (or of a describe)
 * registers the vitest hooks and returns an object whose getters are valid in hooks and tests.
 *
 *   useSuite()        cleanup by registration, scratch directories
 *   useRedis()        + a real redis-server, a client, a fresh key prefix per test
 *   useApp(env)       + one in-process PayFlux app for the file
 *
 * Helpers that open something (`testBuffer`, `startTestApp`, `startPayflux`, `listen`, …) take
 * the suite and `defer` their close: it runs after the test that opened it, or after the file
 * (or describe) when opened in a `beforeAll`; last opened, first closed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach } from 'vitest';

export interface Suite {
  /** Run `cleanup` after the current test (after the file, when called from a `beforeAll`). */
  defer(cleanup: () => unknown): void;
  /** A new empty directory, removed like anything deferred. */
  scratch(): string;
}

export function useSuite(): Suite {
  let inTest = false;
  const perTest: (() => unknown)[] = [];
  const perFile: (() => unknown)[] = [];

  /** Every cleanup runs even when one fails; the failures are reported together. */
  const runAll = async (cleanups: (() => unknown)[]): Promise<void> => {
    const errors: unknown[] = [];
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        await cleanup();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, 'cleanup failed');
  };

  beforeEach(() => {
    inTest = true;
  });
  afterEach(async () => {
    inTest = false;
    await runAll(perTest);
  });
  afterAll(() => runAll(perFile));

  const suite: Suite = {
    defer(cleanup) {
      (inTest ? perTest : perFile).push(cleanup);
    },
    scratch() {
      const dir = mkdtempSync(join(tmpdir(), 'payflux-test-'));
      suite.defer(() => rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
  };
  return suite;
}
