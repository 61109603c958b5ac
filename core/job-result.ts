/** What a job (backup check, restore drill, export…) leaves behind, whether it passed or failed. */
export interface JobResult {
  /** Deterministic per job run, so a retried job leaves exactly one result. */
  id: string;
  kind: string;
  status: 'pass' | 'warn' | 'fail';
  system?: string;
  department?: string;
  site?: 'same-city' | 'off-site';
  startedAt: string;
  finishedAt: string;
  summary: string;
  /** Measured values (ages, sizes, durations) and the MLPS clause. */
  detail: Record<string, unknown>;
}
