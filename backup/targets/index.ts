import type { BackupPolicy } from '../../core/index.js';
import { PathTarget } from './path-target.js';
import { SftpTarget, type SftpOptions } from './sftp-target.js';
import type { BackupTarget } from './target.js';

export type { BackupTarget, BackupSetRef, BackupFileInfo, ReadOptions } from './target.js';
export { parseSetTime, formatSetName } from './target.js';
export { PathTarget } from './path-target.js';
export { SftpTarget } from './sftp-target.js';
export type { SftpOptions, SftpLocation } from './sftp-target.js';

export type TargetSpec = BackupPolicy['sameCity'];

/** Opens the target a policy names; the caller closes it. */
export function openTarget(spec: TargetSpec, sftp: SftpOptions = {}): BackupTarget {
  return spec.type === 'path'
    ? new PathTarget(spec.path)
    : new SftpTarget({ host: spec.host, port: spec.port, user: spec.user, path: spec.path }, sftp);
}
