/**
 * The wire shapes of the Risk Intelligence API: policies, findings, the risk snapshot.
 * String unions come from `as const` arrays so tests and docs can enumerate them.
 */

export const POLICY_KINDS = ['terms', 'privacy', 'refund', 'contact'] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export const POLICY_STATUSES = ['Present', 'Weak', 'Missing'] as const;
export type PolicyStatus = (typeof POLICY_STATUSES)[number];

export const RISK_LABELS = ['LOW', 'MODERATE', 'ELEVATED', 'HIGH', 'CRITICAL'] as const;
export type RiskLabel = (typeof RISK_LABELS)[number];
export type RiskTier = 1 | 2 | 3 | 4 | 5;

export const TRENDS = ['DEGRADING', 'IMPROVING', 'STABLE'] as const;
export type Trend = (typeof TRENDS)[number];

export const FINDING_SEVERITIES = ['info', 'warning', 'critical'] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

/** One keyword hit: which phrase, on which page, with a short snippet of the text around it. */
export interface Evidence {
  readonly keyword: string;
  readonly page: string;
  readonly snippet: string;
}

export interface PolicyResult {
  readonly status: PolicyStatus;
  /** The policy page that was scanned for this policy, when one was linked from the home page. */
  readonly page: string | null;
  readonly evidence: readonly Evidence[];
}

export type Policies = Readonly<Record<PolicyKind, PolicyResult>>;

export interface Finding {
  readonly code: string;
  readonly severity: FindingSeverity;
  readonly message: string;
}

/** Points per component; `total` is their sum clamped to 0–100 (docs/risk-api.md). */
export interface ScoreBreakdown {
  readonly policies: number;
  readonly industry: number;
  readonly processor: number;
  readonly site: number;
  readonly total: number;
}

export interface PageSummary {
  readonly url: string;
  readonly roles: readonly ('home' | PolicyKind)[];
  readonly status: number;
  readonly bytes: number;
  readonly truncated: boolean;
  readonly textChars: number;
}

export interface SnapshotMeta {
  readonly scoringVersion: number;
  readonly durationMs: number;
  readonly bytesFetched: number;
  readonly redirects: number;
  readonly pages: readonly PageSummary[];
  /** Policy pages linked from the home page that could not be scanned (blocked, failed, over budget). */
  readonly skippedPages: readonly {
    readonly url: string;
    readonly kinds: readonly PolicyKind[];
    readonly reason: string;
  }[];
  readonly budgetExhausted: boolean;
}

export interface RiskSnapshot {
  readonly url: string;
  readonly finalUrl: string;
  readonly analyzedAt: string;
  readonly industry: string;
  readonly processor: string;
  readonly scoreBreakdown: ScoreBreakdown;
  readonly policies: Policies;
  readonly findings: readonly Finding[];
  readonly riskTier: RiskTier;
  readonly riskLabel: RiskLabel;
  readonly stabilityScore: number;
  readonly pagesScanned: number;
  readonly meta: SnapshotMeta;
}
