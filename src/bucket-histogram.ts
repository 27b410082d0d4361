/**
 * A Prometheus histogram for the hot paths: `observe` is a bucket search and three additions on
 * numbers made once, with no allocation. prom-client's `Histogram#observe` builds a labels object,
 * hashes it and looks it up on every call (~440 ns, measured); the consumer observes once per
 * exported event and single-event ingest once per request.
 *
 * It registers in a prom-client `Registry` like any metric (the registry only calls `get()` and
 * `reset()`) and renders the same text as prom-client's Histogram: a test holds the two equal.
 * One label at most, whose values are fixed when the children are made (`labels`).
 */
import type { Metric, Registry } from 'prom-client';

export interface HistogramSeries {
  observe(value: number): void;
}

interface MetricValue {
  readonly value: number;
  readonly labels: Record<string, string | number>;
  readonly metricName: string;
}

class Series implements HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly bounds: readonly number[],
    readonly labels: Readonly<Record<string, string>>,
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    // Non-finite values would poison `sum` for good; prom-client throws on them, a hot path
    // should not, so they are dropped.
    if (!Number.isFinite(value)) return;
    const b = this.bounds;
    let i = 0;
    while (i < b.length && value > (b[i] as number)) i++;
    if (i < b.length) this.counts[i] = (this.counts[i] as number) + 1;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}

export interface BucketHistogramOptions<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  readonly labelName?: L;
  readonly registers: readonly Registry[];
}

export class BucketHistogram<L extends string = never> implements HistogramSeries {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly bounds: readonly number[];
  private readonly labelName: L | undefined;
  private readonly series = new Map<string, Series>();
  private readonly unlabelled: Series | undefined;

  constructor(o: BucketHistogramOptions<L>) {
    this.name = o.name;
    this.help = o.help;
    this.bounds = [...o.buckets].sort((a, b) => a - b);
    this.labelName = o.labelName;
    if (o.labelName === undefined) this.unlabelled = this.child('', {});
    // The registry reads a metric only through get() and reset(), which this class has.
    for (const r of o.registers) r.registerMetric(this as unknown as Metric);
  }

  /** The series for one label value, made on first use and kept (label values are a fixed set). */
  labels(values: Readonly<Record<L, string>>): HistogramSeries {
    const name = this.labelName;
    if (name === undefined) throw new Error(`${this.name} has no labels`);
    const value = values[name];
    return this.series.get(value) ?? this.child(value, { [name]: value });
  }

  /** Observe on an unlabelled histogram. */
  observe(value: number): void {
    if (this.unlabelled === undefined) throw new Error(`${this.name} needs labels: use labels({…}).observe`);
    this.unlabelled.observe(value);
  }

  reset(): void {
    for (const s of this.series.values()) s.reset();
  }

  get(): Promise<{ name: string; help: string; type: string; values: MetricValue[]; aggregator: string }> {
    const values: MetricValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i] as number;
        values.push({ value: acc, labels: { le: this.bounds[i] as number, ...s.labels }, metricName: bucket });
      }
      values.push({ value: s.count, labels: { le: '+Inf', ...s.labels }, metricName: bucket });
      values.push({ value: s.sum, labels: { ...s.labels }, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: { ...s.labels }, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator });
  }

  private child(key: string, labels: Record<string, string>): Series {
    const s = new Series(this.bounds, labels);
    this.series.set(key, s);
    return s;
  }
}
