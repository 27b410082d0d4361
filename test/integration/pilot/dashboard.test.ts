import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';
import { startRedis, testPrefix, type RedisServer } from '../../support/redis-server.js';
import { createWarningStore, type WarningStore } from '../../../src/sinks/warning-store.js';
import { createOutcomeRecorder, type OutcomeAnnotationLine } from '../../../src/sinks/outcome-recorder.js';
import { pilotRoutes } from '../../../src/http/pilot-routes.js';
import { incident, transition } from './fixtures.js';
import { API_KEY, authenticate, listen, type TestServer } from './app.js';

let redisServer: RedisServer;
let redis: Redis;
let store: WarningStore;
let server: TestServer;
let browser: BrowserContext;
let profile: string;
const lines: OutcomeAnnotationLine[] = [];

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url);
  store = createWarningStore({ redis, keyPrefix: testPrefix(), maxWarnings: 100, retentionDays: 3650 });
  const outcomes = createOutcomeRecorder({ store, writeLine: (l) => lines.push(l), registry: new Registry() });
  await store.applyTransitions([
    transition('escalate', incident({
      warning_id: 'stripe:evt_dash',
      processor_risk_score: 0.67,
      processor_risk_band: 'high',
      peak_score: 0.67,
      peak_band: 'high',
      event_count: 42,
      processor_playbook_context: 'This pattern typically correlates with processor-side monitoring escalation. <b>not markup</b>',
    })),
  ]);
  server = await listen((app) => app.register(pilotRoutes, { enabled: true, store, outcomes, authenticate }));
  profile = mkdtempSync(join(tmpdir(), 'payflux-chromium-'));
  browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
});

afterAll(async () => {
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await server?.close();
  redis?.disconnect();
  await redisServer?.close();
});

describe('pilot dashboard in headless Chromium', () => {
  it('asks for the key, lists the warning, records an outcome with a click, and shows it saved', async () => {
    const page = await browser.newPage();
    const apiAuth: (string | undefined)[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/pilot/warnings')) apiAuth.push(r.headers().authorization);
    });
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('401')) problems.push(m.text());
    });
    await page.goto(`${server.url}/pilot/dashboard`);
    await page.locator('#api-key').waitFor({ state: 'visible' });

    await page.fill('#api-key', 'wrong-key');
    await page.click('#connect-button');
    await expect.poll(() => page.locator('#key-error').textContent()).toContain('rejected');

    await page.fill('#api-key', API_KEY);
    await page.click('#connect-button');
    const row = page.locator('tr[data-warning-id="stripe:evt_dash"]');
    await row.waitFor({ state: 'visible' });
    expect(await row.locator('.band-cell').textContent()).toContain('high');
    expect(await row.locator('.score').textContent()).toContain('0.67');
    expect(await row.locator('.drivers').textContent()).toBe('high_failure_rate, retry_pressure_spike');
    expect(await row.locator('.context').textContent()).toContain('<b>not markup</b>');
    expect(await row.locator('.context b').count()).toBe(0);
    expect(await row.locator('.outcome').textContent()).toBe('—');
    expect(await page.evaluate('sessionStorage.getItem("payflux.apiKey")')).toBe(API_KEY);

    await row.locator('.outcome-type').selectOption('throttle');
    await row.locator('.outcome-notes').fill('Stripe rate limited the account');
    await row.locator('.record-outcome').click();
    await expect.poll(() => page.locator('tr[data-warning-id="stripe:evt_dash"] .outcome').textContent()).toContain('throttle');
    expect(await page.locator('#status-line').textContent()).toContain('Outcome recorded');

    expect(await store.get('stripe:evt_dash')).toMatchObject({ outcome_observed: true, outcome_type: 'throttle', outcome_source: 'manual', outcome_notes: 'Stripe rate limited the account' });
    expect(lines).toHaveLength(1);
    expect(apiAuth).toContain(`Bearer ${API_KEY}`);
    expect(problems, problems.join('\n')).toEqual([]); // no script errors, no CSP violations

    await page.reload();
    await page.locator('tr[data-warning-id="stripe:evt_dash"]').waitFor({ state: 'visible' });
    expect(await page.locator('tr[data-warning-id="stripe:evt_dash"] .outcome').textContent()).toContain('throttle · via manual');
    await page.close();
  });
});
