/**
 * The library API: PayFlux's operators (all of `payflux/operators`), plus `start()` to run a
 * whole PayFlux in your process. Importing this loads the server (Fastify, ioredis); for the
 * operators alone import `payflux/operators`. See docs/library.md.
 */
export * from './payflux-operators.js';
export { loadConfig, type Config } from './config.js';
export { start, type Running } from './main.js';
export type { Metrics } from './metrics.js';
export type { BucketHistogram, HistogramSeries } from './bucket-histogram.js';
