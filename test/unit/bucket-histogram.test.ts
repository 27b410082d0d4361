import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { BucketHistogram } from '../../src/bucket-histogram.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1];
// Values on, between, under and over the bounds.
const VALUES = [0, 0.0004, 0.001, 0.0011, 0.0025, 0.004, 0.01, 0.0999, 0.1, 0.5, 1, 1.5, 30, 0.001];

describe('BucketHistogram', () => {
  it('renders the same Prometheus text as prom-client’s Histogram for the same observations', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const a = new BucketHistogram({ name: 'x_seconds', help: 'X.', buckets: BUCKETS, registers: [ours] });
    const b = new Histogram({ name: 'x_seconds', help: 'X.', buckets: BUCKETS, registers: [theirs] });
    for (const v of VALUES) {
      a.observe(v);
      b.observe(v);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('renders labelled series like prom-client, each label value with its own counts', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const a = new BucketHistogram({
      name: 'y_seconds',
      help: 'Y.',
      buckets: BUCKETS,
      labelName: 'route',
      registers: [ours],
    });
    const b = new Histogram({
      name: 'y_seconds',
      help: 'Y.',
      buckets: BUCKETS,
      labelNames: ['route'],
      registers: [theirs],
    });
    const single = a.labels({ route: 'single' });
    const batch = a.labels({ route: 'batch' });
    VALUES.forEach((v, i) => {
      single.observe(v);
      b.observe({ route: 'single' }, v);
      if (i % 3 === 0) {
        batch.observe(v * 2);
        b.observe({ route: 'batch' }, v * 2);
      }
    });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(a.labels({ route: 'single' })).toBe(single);
  });

  it('shows a label value with zeros from the moment its series is made', async () => {
    const r = new Registry();
    new BucketHistogram({ name: 'z', help: 'Z.', buckets: [1], labelName: 'route', registers: [r] }).labels({
      route: 'batch',
    });
    expect(await r.metrics()).toContain('z_count{route="batch"} 0');
  });

  it('drops non-finite values instead of throwing on a hot path or poisoning the sum', async () => {
    const r = new Registry();
    const h = new BucketHistogram({ name: 'w', help: 'W.', buckets: [1], registers: [r] });
    h.observe(Number.NaN);
    h.observe(Number.POSITIVE_INFINITY);
    h.observe(0.5);
    const text = await r.metrics();
    expect(text).toContain('w_sum 0.5');
    expect(text).toContain('w_count 1');
  });

  it('starts again from zero on registry reset', async () => {
    const r = new Registry();
    const h = new BucketHistogram({ name: 'v', help: 'V.', buckets: [1], registers: [r] });
    h.observe(2);
    r.resetMetrics();
    expect(await r.metrics()).toContain('v_count 0');
    expect(await r.metrics()).toContain('v_bucket{le="+Inf"} 0');
  });

  it('refuses an unlabelled observe on a labelled histogram, and labels on an unlabelled one', () => {
    const r = new Registry();
    expect(() =>
      new BucketHistogram({ name: 'u', help: 'U.', buckets: [1], labelName: 'route', registers: [r] }).observe(1),
    ).toThrow(/needs labels/);
    const plain = new BucketHistogram({
      name: 't',
      help: 'T.',
      buckets: [1],
      registers: [r],
    }) as unknown as BucketHistogram<'route'>;
    expect(() => plain.labels({ route: 'x' })).toThrow(/no labels/);
  });
});
