export {
  DEFAULT_CLEANUP_AGE_MS,
  FOREIGN_WRITER_GRACE_MS,
  openRepository,
  type BackupKeys,
  type BackupReader,
  type BackupWriter,
  type ChunkInfo,
  type ChunkRef,
  type ChunkSource,
  type Engine,
  type IncompleteBackup,
  type Manifest,
  type Repository,
  type RepositoryOptions,
  type RowCounter,
  type RowCounterFactory,
  type VerifyResult,
} from './repository.ts'
export {ENGINES, isBackupId, summariseManifest, type BackupSummary} from './manifest.ts'
export {DEFAULT_ROW_COUNTERS} from './row-counters.ts'
export {loadBackupSettings, resolveRepositoryLocation, type BackupSettings} from './config.ts'
export {backupMysql, type BackupOptions, type BackupResult} from './mysql/dump.ts'
export {restoreMysql, restoreTestMysql, type RestoreOptions, type RestoreResult} from './mysql/restore.ts'
export type {TransferEvent} from './mysql/sessions.ts'
