import type { BackupPolicy } from '../../core/index.js';
import { PathTarget } from './path-target.js';
import { ResticRepository } from './restic-repository.js';
import { BorgRepository } from './borg-repository.js';
import { PgbackrestRepository } from './pgbackrest-repository.js';
import { MariabackupDirectory } from './mariabackup-directory.js';
import { SftpTarget, type SftpOptions } from './sftp-target.js';
import type { BackupTarget } from './target.js';

export type { BackupTarget, BackupSetRef, BackupFileInfo, ReadOptions } from './target.js';
export { parseSetTime, formatSetName } from './target.js';
export { PathTarget } from './path-target.js';
export { SftpTarget } from './sftp-target.js';
export { ResticRepository, isRepositoryTarget } from './restic-repository.js';
export { BorgRepository } from './borg-repository.js';
export type { BorgSpec } from './borg-repository.js';
export { PgbackrestRepository } from './pgbackrest-repository.js';
export type { PgbackrestSpec } from './pgbackrest-repository.js';
export { MariabackupDirectory } from './mariabackup-directory.js';
export type { MariabackupSpec } from './mariabackup-directory.js';
export { isDatabaseRepository } from './database-repository.js';
export type { DatabaseRepository } from './database-repository.js';
export type { RepositoryTarget, RepositoryCheck, ResticSpec } from './restic-repository.js';
export type { SftpOptions, SftpLocation } from './sftp-target.js';

export type TargetSpec = BackupPolicy['sameCity'];

/** Opens the target a policy names; the caller closes it. */
export function openTarget(spec: TargetSpec, sftp: SftpOptions = {}): BackupTarget {
  if (spec.type === 'sftp') return new SftpTarget({ host: spec.host, port: spec.port, user: spec.user, path: spec.path }, sftp);
  if (spec.kind === 'restic') {
    return new ResticRepository({
      path: spec.path,
      ...(spec.passwordFile ? { passwordFile: spec.passwordFile } : {}),
      ...(spec.passwordEnv ? { passwordEnv: spec.passwordEnv } : {}),
      ...(spec.readDataSubset ? { readDataSubset: spec.readDataSubset } : {}),
    });
  }
  if (spec.kind === 'borg') {
    return new BorgRepository({
      path: spec.path,
      ...(spec.passwordFile ? { passwordFile: spec.passwordFile } : {}),
      ...(spec.passwordEnv ? { passwordEnv: spec.passwordEnv } : {}),
      ...(spec.verifyData ? { verifyData: true } : {}),
    });
  }
  if (spec.kind === 'pgbackrest') {
    return new PgbackrestRepository({
      path: spec.path,
      stanza: spec.stanza ?? '',
      ...(spec.configFile ? { configFile: spec.configFile } : {}),
      ...(spec.passwordFile ? { passwordFile: spec.passwordFile } : {}),
      ...(spec.passwordEnv ? { passwordEnv: spec.passwordEnv } : {}),
      ...(spec.database ? { database: spec.database } : {}),
    });
  }
  if (spec.kind === 'mariabackup') {
    return new MariabackupDirectory({
      path: spec.path,
      ...(spec.utcOffset ? { utcOffset: spec.utcOffset } : {}),
      ...(spec.database ? { database: spec.database } : {}),
    });
  }
  return new PathTarget(spec.path);
}
