import { describe, expect, it } from 'vitest';
import {
  BAND_SENTENCES,
  DRIVER_SENTENCES,
  TRAJECTORY_TEMPLATES,
  playbookContext,
  producibleTexts,
  trajectoryText,
  windowPhrase,
} from '../../../src/operators/playbook-sentences.js';
import { DRIVER_LISTS } from '../../../src/operators/risk/risk-model.js';
import { BANDS, RISK_DRIVERS, TRAJECTORIES } from '../../../src/risk-terms.js';

/** No guarantees, no recommended actions, no decisions, no processor rule stated as fact. */
const FORBIDDEN =
  /\b(will|won't|must|should|shall|guarantees?|guaranteed|recommend\w*|always|never|certainly|definitely|you|your|consider|contact|switch|pause|stop|reduce|avoid|ensure)\b/i;
const PROBABILISTIC = /\b(typically|commonly|often)\b/;

/** Every text the tier 2 code can produce: all playbooks, trajectories over a grid of ratios and windows. */
function everyProducibleText(): string[] {
  const out = new Set<string>(producibleTexts());
  for (const band of BANDS) for (const drivers of DRIVER_LISTS) out.add(playbookContext(band, drivers));
  // A segment in focus, for every field it can name (the value is the event's own data).
  const samples = {
    geo_bucket: 'BR',
    merchant_id_hash: 'm_3f2a',
    failure_category: 'issuer_unavailable',
    payment_method_bucket: 'wallet',
    channel: 'web',
  };
  for (const band of BANDS)
    for (const [field, value] of Object.entries(samples))
      for (const drivers of DRIVER_LISTS) out.add(playbookContext(band, drivers, { [field]: value }));
  for (const windowSec of [30, 60, 90, 300, 600, 3_600]) {
    for (const trajectory of TRAJECTORIES) {
      for (let tenths = 0; tenths <= 200; tenths++) {
        const text = trajectoryText(trajectory, tenths / 10, windowSec);
        if (text !== undefined) out.add(text);
      }
    }
  }
  out.delete('');
  return [...out];
}

const sentences = (text: string) => text.split(/(?<=\.)\s+/);

describe('tier 2 sentences: guardrails', () => {
  const texts = everyProducibleText();

  it('enumerates the playbooks and trajectory texts', () => {
    expect(texts.length).toBeGreaterThan(3 * 256 * 6);
  });

  it('never guarantees, recommends or states a rule as fact', () => {
    for (const text of texts) expect(text, text).not.toMatch(FORBIDDEN);
  });

  it('uses probabilistic language in every interpretive sentence', () => {
    const interpretive = [...Object.values(BAND_SENTENCES), ...Object.values(DRIVER_SENTENCES)].flatMap(sentences);
    for (const s of interpretive) expect(s, s).toMatch(PROBABILISTIC);
  });

  it('marks every trajectory figure as approximate', () => {
    for (const text of texts.filter((t) => t.startsWith('Pattern') || t.startsWith('Elevation')))
      expect(text).toMatch(/~(\d+\.\d|\{ratio\})×/);
  });
});

describe('tier 2 sentences: coverage', () => {
  it('has a sentence for every driver and every band but low', () => {
    for (const d of RISK_DRIVERS) expect(DRIVER_SENTENCES[d]).toMatch(/\.$/);
    for (const b of BANDS.filter((x) => x !== 'low')) expect(BAND_SENTENCES[b]).toMatch(/\.$/);
  });

  it('keeps the seed sentences verbatim', () => {
    expect(BAND_SENTENCES.high).toBe(
      'This pattern typically correlates with processor-side monitoring escalation. Rate limiting or velocity checks are commonly triggered at this threshold.',
    );
    expect(DRIVER_SENTENCES.high_failure_rate).toBe(
      'Elevated failure rates are commonly interpreted as degraded transaction quality.',
    );
    expect(DRIVER_SENTENCES.retry_pressure_spike).toBe(
      'Retry clustering typically signals infrastructure stress or integration issues to processor risk systems.',
    );
  });

  it('writes the band sentence then one sentence per driver in contractual order; nothing for low', () => {
    expect(playbookContext('low', ['high_failure_rate'])).toBe('');
    expect(playbookContext('critical', ['nominal_behavior'])).toBe(BAND_SENTENCES.critical);
    expect(playbookContext('elevated', ['auth_failure_cluster', 'retry_pressure_spike'])).toBe(
      `${BAND_SENTENCES.elevated} ${DRIVER_SENTENCES.retry_pressure_spike} ${DRIVER_SENTENCES.auth_failure_cluster}`,
    );
  });
});

describe('tier 2 sentences: trajectory', () => {
  it('writes the accelerating, decelerating and sustained variants', () => {
    expect(trajectoryText('accelerating', 3.2, 300)).toBe(
      'Pattern accelerating: ~3.2× above baseline over the last 5 minutes.',
    );
    expect(trajectoryText('decelerating', 0.4, 300)).toBe(
      'Pattern decelerating: ~0.4× of baseline over the last 5 minutes.',
    );
    expect(trajectoryText('stable', 1.7, 300)).toBe(
      'Elevation sustained: ~1.7× above baseline over the last 5 minutes.',
    );
    expect(Object.keys(TRAJECTORY_TEMPLATES).sort()).toEqual(['accelerating', 'decelerating', 'sustained']);
  });

  it('says nothing when stable below 1.5×', () => {
    expect(trajectoryText('stable', 1.4, 300)).toBeUndefined();
    expect(trajectoryText('stable', 1, 300)).toBeUndefined();
  });

  it('names the configured window', () => {
    expect([30, 60, 90, 120, 300, 3_600].map(windowPhrase)).toEqual([
      'the last 30 seconds',
      'the last minute',
      'the last 90 seconds',
      'the last 2 minutes',
      'the last 5 minutes',
      'the last 60 minutes',
    ]);
  });
});
