/**
 * V8's old-generation growth under sustained load. With V8's own factor (1.1–4× the live heap)
 * the batches in flight promote short-lived objects and RSS peaked at 250–275 MB in 200-s soaks
 * at 44k events/s; growing by at most 100 % past the live heap kept them at 142–184 MB with no
 * throughput lost (25 % cost the drain up to a fifth in more major GCs).
 */
import { setFlagsFromString } from 'node:v8';

/**
 * PAYFLUX_HEAP_GROWING_PERCENT when unset: 100, and 300 in a process that only consumes
 * (PAYFLUX_ROLE=consumer, also each consumer process of PAYFLUX_WORKERS). A consumer's live
 * heap is ~33 MB and what it promotes dies there: at 100 a drain runs a mark-compact every
 * ~200 ms, and 300 takes its CPU per event from 5.4–6.7 to 5.0–5.1 µs for ~60 MB more peak RSS
 * (measured, 1M-event drains: bench/README.md, the consumer's allocation and GC). A process
 * that ingests keeps 100: with batch bodies in flight, V8's own factor took RSS past 250 MB.
 */
export function defaultHeapGrowingPercent(role: string): number {
  return role === 'consumer' ? 300 : 100;
}

/**
 * Let the old generation grow by `percent` after each major GC instead of by V8's own factor.
 * V8 reads the flag whenever it sets the next limit, so setting it at start works like the
 * command-line flag. 0 leaves V8 alone (and any `--heap-growing-percent` given to Node).
 */
export function tuneHeap(percent: number): void {
  if (percent > 0) setFlagsFromString(`--heap-growing-percent=${percent}`);
}

/**
 * The young generation PayFlux is meant to run with: `--max-semi-space-size=16`, Node 20's
 * default. Node 24's larger default let RSS reach 292–330 MB in soaks at 17k events/s, against
 * 195–216 MB with this flag at the same CPU per event (measured). V8 sizes the young generation
 * when the heap is set up, so the flag must be on Node's command line: the `payflux` bin, `npm
 * start`, the Docker image and the systemd unit pass it.
 */
export const YOUNG_GENERATION_FLAG = '--max-semi-space-size=16';

/** Whether this process was started with a semi-space size of its own (any value). */
export function youngGenerationSet(execArgv: readonly string[], nodeOptions: string | undefined): boolean {
  const given = (arg: string): boolean => arg.startsWith('--max-semi-space-size');
  return execArgv.some(given) || (nodeOptions ?? '').split(/\s+/).some(given);
}
