import type { RepositoryTarget } from './restic-repository.js';
import type { BackupTarget } from './target.js';

/**
 * A repository of physical database backups (pgBackRest, mariabackup): a set restores to a data directory that a
 * throwaway server starts on, so the drill runs the policy's validation queries against the real thing.
 */
export interface DatabaseRepository extends RepositoryTarget {
  readonly kind: 'pgbackrest' | 'mariabackup';
  readonly engine: 'postgresql' | 'mariadb';
  /** Where validation queries run. */
  readonly database: string;
  /** Makes `dir` a data directory a server can start on. */
  restore(set: string, dir: string, signal?: AbortSignal): Promise<void>;
}

export const isDatabaseRepository = (target: BackupTarget): target is DatabaseRepository => {
  const kind = (target as Partial<DatabaseRepository>).kind;
  return kind === 'pgbackrest' || kind === 'mariabackup';
};
