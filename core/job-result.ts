export type JobStatus = 'pass' | 'warn' | 'fail';
export type JobSite = 'same-city' | 'off-site';

/** The backup checks (backup/checks), by the name a result and its event carry. */
export type BackupCheckName = 'presence' | 'freshness' | 'completeness' | 'integrity' | 'retention' | 'cross-site' | 'immutability' | 'ransomware';

/** The drill's measured restore time against the policy's RTO. */
export interface RtoMeasure {
  targetSeconds: number;
  achievedSeconds: number;
  met: boolean;
}

interface JobResultBase {
  /** Deterministic per job run, so a retried job leaves exactly one result. */
  id: string;
  status: JobStatus;
  system?: string;
  department?: string;
  site?: JobSite;
  startedAt: string;
  finishedAt: string;
  summary: string;
}

/** One check of one site (or `cross-site`): what it measured. Other measured values ride along. */
export interface BackupCheckDetail {
  check: BackupCheckName;
  site: JobSite | 'cross-site';
  clause?: string;
  mlpsLevel?: number;
  runId?: string;
  /** Freshness: age of the latest set and the RPO it is held to. */
  ageSeconds?: number;
  rpoSeconds?: number;
  [measured: string]: unknown;
}

export interface RestoreDrillDetail {
  /** The copy restored from; results stored before drills had a site were same-city. */
  site?: JobSite;
  rto?: RtoMeasure;
  clause?: string;
  runId?: string;
  error?: string;
  [measured: string]: unknown;
}

export interface BackupCheckResult extends JobResultBase {
  kind: 'backup-check';
  detail: BackupCheckDetail;
}

export interface RestoreDrillResult extends JobResultBase {
  kind: 'restore-drill';
  detail: RestoreDrillDetail;
}

export interface EvidenceExportResult extends JobResultBase {
  kind: 'evidence-export';
  detail: { reason?: string; [measured: string]: unknown };
}

/** What a job (backup check, restore drill, evidence export) leaves behind, whether it passed or failed. */
export type JobResult = BackupCheckResult | RestoreDrillResult | EvidenceExportResult;
export type JobKind = JobResult['kind'];

/** The site a drill restored from: older results carry none and were same-city. */
export const drillSite = (result: RestoreDrillResult): JobSite => result.detail.site ?? result.site ?? 'same-city';
