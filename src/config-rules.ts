/**
 * Rules across variables that refuse a configuration which would look set up and do nothing:
 * each problem names its variable, as every other in `loadConfig`.
 */
import { TIER_LABELS, type Tier } from './risk-terms.js';

/** The parsed variables these rules read. */
export interface RuleInput {
  readonly PAYFLUX_RISK_SCORE_ENABLED: boolean;
  readonly PAYFLUX_PILOT_MODE: boolean;
  readonly PAYFLUX_WARNINGS_ENABLED: boolean;
  readonly PAYFLUX_TIER: Tier;
  readonly PAYFLUX_ALERT_SLACK_WEBHOOK_URL?: string | undefined;
  readonly PAYFLUX_ALERT_WEBHOOK_URL?: string | undefined;
  readonly PAYFLUX_WORKERS: number;
  readonly PAYFLUX_ROLE: string;
  readonly PAYFLUX_BUFFER: string;
  readonly PAYFLUX_EXPORT_MODE: string;
}

/**
 * With risk scoring off no event is scored, so no incident can open: warnings and alerts
 * configured anyway would stay silent for ever. Refused rather than ignored.
 */
export function riskOffProblems(e: RuleInput): string[] {
  if (e.PAYFLUX_RISK_SCORE_ENABLED) return [];
  const problems: string[] = [];
  if (e.PAYFLUX_PILOT_MODE && e.PAYFLUX_WARNINGS_ENABLED)
    problems.push(
      'PAYFLUX_WARNINGS_ENABLED: pilot warnings come from risk scores, and PAYFLUX_RISK_SCORE_ENABLED=false turns scoring off; set PAYFLUX_WARNINGS_ENABLED=false to run pilot mode without warnings',
    );
  for (const name of ['PAYFLUX_ALERT_SLACK_WEBHOOK_URL', 'PAYFLUX_ALERT_WEBHOOK_URL'] as const)
    if (e[name] !== undefined)
      problems.push(
        `${name}: alerts are raised by risk incidents, and PAYFLUX_RISK_SCORE_ENABLED=false turns scoring off`,
      );
  return problems;
}

/** Alerting is a tier 2 feature: alert URLs on tier 1 are refused rather than silently used. */
export function tierProblems(e: RuleInput): string[] {
  if (e.PAYFLUX_TIER !== 'tier1') return [];
  return (['PAYFLUX_ALERT_SLACK_WEBHOOK_URL', 'PAYFLUX_ALERT_WEBHOOK_URL'] as const)
    .filter((name) => e[name] !== undefined)
    .map(
      (name) =>
        `${name}: alerts are a tier 2 feature (${TIER_LABELS.tier2}); PAYFLUX_TIER=tier1 (${TIER_LABELS.tier1}) sends none. Set PAYFLUX_TIER=tier2 or remove the URL`,
    );
}

/**
 * Several worker processes (src/supervisor.ts) share the stream, so they need Redis. A consumer
 * node's workers are all consumers, each exporting its own partitions: whole lines appended to
 * one file are one write() each and do not mix, but stdout is one pipe for all of them, where a
 * write over PIPE_BUF (4 KB) can be cut by another process's mid-line.
 */
export function workerProblems(e: RuleInput): string[] {
  if (e.PAYFLUX_WORKERS === 1) return [];
  const problems: string[] = [];
  if (e.PAYFLUX_BUFFER === 'memory')
    problems.push(
      `PAYFLUX_BUFFER: memory is in-process and cannot be shared by PAYFLUX_WORKERS=${e.PAYFLUX_WORKERS} processes; use redis (or auto)`,
    );
  if (e.PAYFLUX_ROLE === 'consumer' && e.PAYFLUX_EXPORT_MODE !== 'file')
    problems.push(
      `PAYFLUX_EXPORT_MODE: ${e.PAYFLUX_EXPORT_MODE} writes to stdout, which PAYFLUX_WORKERS=${e.PAYFLUX_WORKERS} consumer processes would share and could interleave mid-line; use file (PAYFLUX_EXPORT_FILE), or PAYFLUX_WORKERS=1`,
    );
  return problems;
}
