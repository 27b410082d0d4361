import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { TEST_KEY, useApp } from '../../support/app.js';
import { poll } from '../../support/poll.js';
import { postScenario } from '../../support/scenario.js';
import { createWarningStore } from '../../../src/pilot/warning-store.js';
import { createRiskHistory, SLOT_MS } from '../../../src/pilot/risk-history.js';
import { incident, transition } from './fixtures.js';

const suite = useApp({
  PAYFLUX_PILOT_MODE: 'true',
  PAYFLUX_TIER: 'tier2',
  PAYFLUX_PROCESSORS: 'stripe,adyen,checkout',
});
const SHOTS = join(process.cwd(), 'test-results', 'dashboard');
/** How long the live tile may take to show a new band, without a reload. */
const LIVE_WITHIN_MS = 10_000;

let browser: BrowserContext;
let profile: string;
let page: Page;
const problems: string[] = [];
const apiAuth = new Set<string | undefined>();
let navigations = 0;

/**
 * Three quarters of an hour of calm history for both processors (older than any traffic the
 * test sends), and a resolved adyen incident with a review recorded, so the charts and rows show
 * what an on-call engineer sees after a day; its tier 2 text carries markup that must stay text.
 */
async function seedHistory(): Promise<void> {
  const { redis } = suite;
  const { prefix } = suite.app;
  const now = Date.now();
  const history = createRiskHistory({ redis, keyPrefix: prefix, hours: 24 });
  for (const processor of ['stripe', 'adyen']) {
    for (let t = now - 55 * 60_000; t < now - 6 * 60_000; t += SLOT_MS) {
      const k = (t - now) / 60_000;
      const spike = processor === 'adyen' && k > -46 && k < -31;
      const score = spike ? Math.min(0.86, 0.35 + (k + 46) * 0.07) : 0.06 + 0.04 * Math.sin(k / 3);
      const band = score >= 0.8 ? 'critical' : score >= 0.6 ? 'high' : score >= 0.3 ? 'elevated' : 'low';
      const r = Math.round(score * 100) / 100;
      const drivers = spike ? (['high_failure_rate', 'timeout_clustering'] as const) : (['nominal_behavior'] as const);
      await history.record({
        processor,
        atMs: t,
        slots: [
          {
            atMs: t,
            events: 30,
            failures: spike ? 18 : 2,
            maxScore: r,
            maxBand: band,
            score: r,
            band,
            drivers,
            trajectory: 'stable',
            trajectoryRatio: 1,
          },
        ],
        score: r,
        band,
        drivers,
        trajectory: 'stable',
        trajectoryRatio: 1,
        focus: null,
      });
    }
  }
  const store = createWarningStore({ redis, keyPrefix: prefix, maxWarnings: 100, retentionDays: 90 });
  const opened = new Date(now - 44 * 60_000).toISOString();
  await store.applyTransitions([
    transition(
      'resolve',
      incident({
        warning_id: 'adyen:evt_seeded',
        processor: 'adyen',
        processed_at: opened,
        event_timestamp: opened,
        opened_at: opened,
        resolved_at: new Date(now - 29 * 60_000).toISOString(),
        status: 'resolved',
        processor_risk_score: 0.64,
        processor_risk_band: 'high',
        peak_score: 0.86,
        peak_band: 'critical',
        event_count: 412,
        processor_playbook_context:
          'This pattern typically correlates with processor-side monitoring escalation. <b>not markup</b>',
      }),
    ),
  ]);
  await store.recordOutcome('adyen:evt_seeded', {
    outcome_type: 'review',
    outcome_timestamp: new Date(now - 36 * 60_000).toISOString(),
    outcome_source: 'manual',
    outcome_notes: '<img src=x onerror=alert(1)> account review opened',
  });
}

async function launch(): Promise<BrowserContext> {
  profile = mkdtempSync(join(tmpdir(), 'payflux-chromium-'));
  return chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1440, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  await seedHistory();
  browser = await launch();
  page = await browser.newPage();
  page.on('request', (r) => {
    if (r.url().includes('/pilot/') && !r.url().includes('dashboard')) apiAuth.add(r.headers().authorization);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().includes('401')) problems.push(m.text());
  });
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) navigations++;
  });
});

afterAll(async () => {
  await browser?.close().catch(() => undefined);
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const text = async (selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';

/** Every chart drawn at its container's width (evaluated in the page). */
const CHARTS_FIT = `[...document.querySelectorAll('.chart-host')].every(
  (h) => Math.abs((h.querySelector('svg')?.clientWidth ?? 0) - h.clientWidth) <= 2)`;

async function shoot(name: string, width: number, scheme: 'light' | 'dark'): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme });
  await page.setViewportSize({ width, height: 900 });
  // The charts redraw at their new width.
  await poll(
    `charts at ${width} px`,
    () => page.evaluate<boolean>(CHARTS_FIT),
    (ok) => ok,
    { timeoutMs: 3000 },
  );
  await page.screenshot({ path: join(SHOTS, `${name}-${width}-${scheme}.png`), fullPage: true });
}

async function axeViolations(): Promise<string[]> {
  const source = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  // Evaluated through the DevTools protocol, which the page's CSP does not govern.
  await page.evaluate(source);
  const result = await page.evaluate<AxeResult>('axe.run(document)');
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
}
interface AxeResult {
  violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[];
}

// A real browser on a loaded 2-core machine: axe over four page states alone can take 20 s.
describe('pilot dashboard in headless Chromium', { timeout: 60_000 }, () => {
  it('asks for the key and refuses a wrong one', async () => {
    await page.goto(`${suite.app.url}/pilot/dashboard`);
    await page.locator('#api-key').waitFor({ state: 'visible' });
    await page.fill('#api-key', 'wrong-key');
    await page.click('#connect-button');
    await poll(
      'the wrong key refused',
      () => text('#key-error'),
      (t) => t.includes('rejected'),
      { timeoutMs: 3000 },
    );

    await page.fill('#api-key', TEST_KEY);
    await page.click('#connect-button');
    await page.locator('.tile[data-processor="adyen"]').waitFor({ state: 'visible' });
    expect(await text('#tier-label')).toBe('Revenue Protection');
    expect(await text('#quiet')).toContain('checkout');
    expect(await page.evaluate('sessionStorage.getItem("payflux.apiKey")')).toBe(TEST_KEY);
  });

  it('shows the live band within seconds of scenario traffic, without a reload; the chart has the points and the incident span', async () => {
    const before = navigations;
    const now = Date.now();
    await postScenario(suite.app.url, [
      { processor: 'stripe', scenario: 'healthy', events: 480, fromMs: now - 240_000, toMs: now - 31_000 },
      { processor: 'adyen', scenario: 'healthy', events: 480, fromMs: now - 240_000, toMs: now },
      { processor: 'stripe', scenario: 'outage', events: 300, fromMs: now - 30_000, toMs: now },
    ]);
    const band = await poll(
      'the stripe tile out of low',
      () => text('.tile[data-processor="stripe"] .band'),
      (b) => /elevated|high|critical/.test(b),
      { timeoutMs: LIVE_WITHIN_MS },
    );
    expect(Date.now() - now).toBeLessThan(LIVE_WITHIN_MS + 5000);
    expect(navigations).toBe(before);
    const tile = '.tile[data-processor="stripe"]';
    expect(await text(`${tile} .drivers`)).toContain('high failure rate');
    expect(Number(await text(`${tile} .epm`))).toBeGreaterThan(0);
    expect(await text(`${tile} .last-event`)).toMatch(/ago$/);
    expect(await text(`${tile} .incident-note`)).toContain('Incident open since');
    expect(await text(`${tile} .score`)).toMatch(/^0\.\d\d$|^1\.00$/);
    expect(band).toMatch(/elevated|high|critical/);

    const chart = '.chart-card[data-processor="stripe"]';
    await poll(
      'the stripe chart with its incident',
      () => page.locator(`${chart} .incident-span.open`).count(),
      (n) => n === 1,
      { timeoutMs: LIVE_WITHIN_MS },
    );
    expect(Number(await page.locator(`${chart} svg`).getAttribute('data-points'))).toBeGreaterThan(280);
    expect(
      await page.locator(`${chart} .pt-elevated, ${chart} .pt-high, ${chart} .pt-critical`).count(),
    ).toBeGreaterThan(0);
    // The seeded adyen day: a resolved incident with its review marker and lead time.
    const adyen = '.chart-card[data-processor="adyen"]';
    expect(await page.locator(`${adyen} .incident-span.resolved`).count()).toBe(1);
    expect(await page.locator(`${adyen} .outcome-marker[data-outcome-type="review"] text`).textContent()).toBe(
      'review · 8 min lead',
    );

    // The incident rows: stripe open, adyen resolved with its peak shown as history.
    const stripeRow = page.locator('tr.incident.open[data-warning-id^="stripe:"]');
    await stripeRow.waitFor({ state: 'visible', timeout: LIVE_WITHIN_MS });
    const adyenRow = page.locator('tr.incident[data-warning-id="adyen:evt_seeded"]');
    expect(await adyenRow.locator('.status').textContent()).toBe('resolved');
    expect(await adyenRow.locator('.peak .band').getAttribute('class')).toBe('band band-critical quiet');
    expect(await adyenRow.locator('.now .band').textContent()).toMatch(/^low /);
    expect(await adyenRow.locator('.outcome').textContent()).toBe('review · 8 min lead');
  });

  it('shows a new processor and the segment in focus when the model names one, without a reload', async () => {
    const history = createRiskHistory({ redis: suite.redis, keyPrefix: suite.app.prefix, hours: 24 });
    const now = Date.now();
    const state = { score: 0.45, band: 'elevated', drivers: ['high_failure_rate'], trajectory: 'stable' } as const;
    const slot = {
      atMs: now,
      events: 40,
      failures: 22,
      maxScore: 0.45,
      maxBand: 'elevated',
      trajectoryRatio: 1,
    } as const;
    await history.record({
      processor: 'checkout',
      atMs: now,
      slots: [{ ...slot, ...state }],
      ...state,
      trajectoryRatio: 1,
      focus: { geo_bucket: 'BR' },
    });
    const tile = '.tile[data-processor="checkout"]';
    await poll(
      'the checkout tile',
      () => page.locator(tile).count(),
      (n) => n === 1,
      { timeoutMs: LIVE_WITHIN_MS },
    );
    expect(await text(`${tile} .focus`)).toBe('Segment in focus: geo bucket BR');
    expect(await text(`${tile} .band`)).toBe('elevated');
    expect(await text('#quiet')).toBe('');
  });

  it('records an outcome from the row (no type preselected) and adds its marker to the chart', async () => {
    const row = page.locator('tr.incident.open[data-warning-id^="stripe:"]');
    const id = await row.getAttribute('data-warning-id');
    await row.locator('.toggle').click();
    const detail = page.locator(`tr.detail[data-detail-for="${id}"]`);
    await detail.waitFor({ state: 'visible' });
    expect(await detail.locator('.context').textContent()).toContain('typically');
    const type = detail.locator('.outcome-type');
    expect(await type.inputValue()).toBe('');
    // Submitting without a type records nothing.
    await detail.locator('.record-outcome').click();
    expect(await row.locator('.outcome').textContent()).toBe('none recorded');
    await type.selectOption('throttle');
    await detail.locator('.outcome-notes').fill('Stripe rate limited the account');
    await detail.locator('.record-outcome').click();
    await poll(
      'the outcome in the row',
      () => row.locator('.outcome').textContent(),
      (t) => t?.includes('throttle') === true,
    );
    expect(await text('#status-line')).toContain('Outcome recorded for stripe');
    await poll(
      'the throttle marker on the stripe chart',
      () => page.locator('.chart-card[data-processor="stripe"] .outcome-marker[data-outcome-type="throttle"]').count(),
      (n) => n === 1,
    );

    // Tier 2 text and notes are text, never markup.
    await page.locator('tr.incident[data-warning-id="adyen:evt_seeded"] .toggle').click();
    const seeded = page.locator('tr.detail[data-detail-for="adyen:evt_seeded"]');
    expect(await seeded.locator('.context').textContent()).toContain('<b>not markup</b>');
    expect(await seeded.locator('.context b, img').count()).toBe(0);
    expect(await seeded.textContent()).toContain('<img src=x onerror=alert(1)>');
  });

  it('reads the chart with the keyboard', async () => {
    const plot = page.locator('.chart-card[data-processor="stripe"] .chart-plot');
    await plot.focus();
    await page.keyboard.press('End');
    const tip = plot.locator('.chart-tip');
    expect(await tip.isVisible()).toBe(true);
    expect(await tip.textContent()).toMatch(/highest \d\.\d\d (elevated|high|critical)/);
    await page.keyboard.press('Home');
    expect(await tip.textContent()).toMatch(/highest 0\.\d\d low/);
    await page.keyboard.press('Escape');
    expect(await tip.isVisible()).toBe(false);
  });

  it('has no serious or critical accessibility violation, light or dark, wide or narrow; screenshots', async () => {
    await page.locator('#tiles').click({ position: { x: 1, y: 1 } });
    for (const scheme of ['light', 'dark'] as const) {
      for (const width of [1440, 390]) {
        await shoot('dashboard', width, scheme);
        expect(await axeViolations(), `${scheme} ${width}px`).toEqual([]);
      }
    }
    await page.locator('#ranges button[data-range="24h"]').click();
    await poll(
      'the 24 h charts',
      () => page.locator('.chart-card[data-processor="adyen"] .chart').getAttribute('aria-label'),
      (l) => l?.includes('24h') === true,
    );
    await shoot('dashboard-24h', 1440, 'dark');
  });

  it('made every API call with the key, with no script error or CSP violation, and never reloaded', () => {
    expect([...apiAuth]).toEqual(expect.arrayContaining([`Bearer ${TEST_KEY}`]));
    expect([...apiAuth].filter((a) => a !== `Bearer ${TEST_KEY}` && a !== 'Bearer wrong-key')).toEqual([]);
    expect(problems, problems.join('\n')).toEqual([]);
    expect(navigations).toBe(1);
  });
});
