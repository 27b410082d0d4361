/**
 * What `payflux loadgen` shows: its progress as a few lines, each cut to the terminal's width,
 * redrawn in place on a terminal (cursor up, clear line) and printed once a second elsewhere;
 * then one summary. Pure: state in, text out.
 */

export interface ProcessorRisk {
  readonly processor: string;
  readonly band: string;
  readonly score: number;
}

export interface LoadgenState {
  readonly scenario: string;
  readonly url: string;
  readonly elapsedMs: number;
  readonly durationMs: number;
  /** The scenario's phase now: `healthy` before its onset, then its name. */
  readonly phase: string;
  readonly sent: number;
  readonly accepted: number;
  /** Events not accepted, by reason (`503 PF_ERR_BUFFER_UNAVAILABLE`, `ECONNREFUSED`, …). */
  readonly errors: ReadonlyMap<string, number>;
  /** Events accepted per second over the last few seconds. */
  readonly rate: number;
  /** Request latencies of the last few seconds, milliseconds. */
  readonly latencyMs: readonly number[];
  /** The server's risk state, or why it is not known. */
  readonly risk: readonly ProcessorRisk[] | string;
}

/** The `p`-quantile (0..1) of `values` (nearest rank); NaN when there are none. */
export function quantile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))] as number;
}

const ms = (v: number): string => (Number.isNaN(v) ? '–' : v < 10 ? v.toFixed(1) : v.toFixed(0));

export function latencyText(values: readonly number[]): string {
  return `p50 ${ms(quantile(values, 0.5))} ms  p95 ${ms(quantile(values, 0.95))} ms  p99 ${ms(quantile(values, 0.99))} ms`;
}

export function errorsText(errors: ReadonlyMap<string, number>): string {
  if (errors.size === 0) return 'none';
  return [...errors]
    .sort((a, b) => b[1] - a[1])
    .map(([reason, n]) => `${reason} ×${n}`)
    .join('  ');
}

/** The progress lines, each at most `columns - 1` characters (a full last column would wrap). */
export function statusLines(s: LoadgenState, columns: number): string[] {
  const seconds = (v: number): string => `${Math.floor(v / 1000)}s`;
  const lines = [
    `loadgen ${s.scenario} → ${s.url}  ${seconds(s.elapsedMs)}/${seconds(s.durationMs)}  phase ${s.phase}`,
    `sent ${s.sent}  accepted ${s.accepted}  ${s.rate.toFixed(1)} events/s`,
    `latency ${latencyText(s.latencyMs)}`,
    `errors ${errorsText(s.errors)}`,
    ...(typeof s.risk === 'string'
      ? [`risk ${s.risk}`]
      : s.risk.map((p) => `${p.processor.padEnd(10)} ${p.band.padEnd(8)} ${p.score.toFixed(2)}`)),
  ];
  const width = Math.max(10, columns - 1);
  return lines.map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l));
}

/**
 * Draws successive frames on one output: on a terminal each frame replaces the previous one
 * (however many lines each had); elsewhere each frame is printed after the last.
 */
export function createFrames(out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }): {
  draw(lines: readonly string[]): void;
  readonly columns: number;
} {
  let shown = 0;
  return {
    get columns() {
      return out.isTTY === true ? (out.columns ?? 80) : Number.MAX_SAFE_INTEGER;
    },
    draw(lines) {
      if (out.isTTY !== true) {
        out.write(`${lines.join('  |  ')}\n`);
        return;
      }
      // Up to the first line of the last frame, then each line cleared and written.
      const up = shown > 0 ? `\x1b[${shown}F` : '';
      const extra = Math.max(0, shown - lines.length);
      out.write(
        `${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}${'\x1b[2K\n'.repeat(extra)}${extra > 0 ? `\x1b[${extra}F` : ''}`,
      );
      shown = lines.length;
    },
  };
}
