import type { BackupPolicy } from '../../core/index.js';
import { PathTarget } from './path-target.js';
import { ResticRepository } from './restic-repository.js';
import { BorgRepository } from './borg-repository.js';
import { PgbackrestRepository } from './pgbackrest-repository.js';
import { MariabackupDirectory } from './mariabackup-directory.js';
import { SftpTarget, type SftpOptions } from './sftp-target.js';
import { S3Target, describeS3, resolveS3Credentials, type S3Location } from './s3-target.js';
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
export { S3Target, isS3Target, resolveS3Credentials, describeS3 } from './s3-target.js';
export type { S3Location, S3Credentials, ObjectFacts, BucketLock } from './s3-target.js';

export type TargetSpec = BackupPolicy['sameCity'];

/** Opens the target a policy names; the caller closes it. */
export function openTarget(spec: TargetSpec, sftp: SftpOptions = {}): BackupTarget {
  if (spec.type === 'sftp') return new SftpTarget({ host: spec.host, port: spec.port, user: spec.user, path: spec.path }, sftp);
  if (spec.type === 's3') {
    const location: S3Location = {
      bucket: spec.bucket, region: spec.region,
      ...(spec.prefix ? { prefix: spec.prefix } : {}),
      ...(spec.endpoint ? { endpoint: spec.endpoint } : {}),
      ...(spec.forcePathStyle ? { forcePathStyle: true } : {}),
      ...(spec.credentialsFile ? { credentialsFile: spec.credentialsFile } : {}),
      ...(spec.accessKeyIdEnv ? { accessKeyIdEnv: spec.accessKeyIdEnv } : {}),
      ...(spec.secretAccessKeyEnv ? { secretAccessKeyEnv: spec.secretAccessKeyEnv } : {}),
    };
    if (spec.kind !== 'restic') return new S3Target(location);
    return new ResticRepository({
      path: resticS3Url(location),
      ...(spec.passwordFile ? { passwordFile: spec.passwordFile } : {}),
      ...(spec.passwordEnv ? { passwordEnv: spec.passwordEnv } : {}),
      ...(spec.readDataSubset ? { readDataSubset: spec.readDataSubset } : {}),
      // restic reads the keys from AWS_* in its environment; they are resolved when it runs.
      env: () => {
        const keys = resolveS3Credentials(location, describeS3(location));
        return {
          AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_DEFAULT_REGION: location.region,
          ...(keys.sessionToken ? { AWS_SESSION_TOKEN: keys.sessionToken } : {}),
        };
      },
      options: [`s3.region=${location.region}`, ...(location.forcePathStyle ? ['s3.bucket-lookup=path'] : [])],
      objectStore: location,
    });
  }
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

/** restic's `s3:` repository URL: `s3:<endpoint>/<bucket>/<prefix>`, the AWS endpoint when none is given. */
export function resticS3Url(location: S3Location): string {
  const endpoint = (location.endpoint ?? `https://s3.${location.region}.amazonaws.com`).replace(/\/+$/, '');
  return `s3:${endpoint}/${location.bucket}${location.prefix ? `/${location.prefix.replace(/\/+$/, '')}` : ''}`;
}
