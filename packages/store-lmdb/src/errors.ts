import { JunctionError } from '@junction/broker-core';

/**
 * Why the store cannot be used:
 * - `unreadable`: the directory or a file in it cannot be created, read or written;
 * - `corrupt`: the data file is damaged (bad header, a page LMDB cannot read, a value failing
 *   its checksum) or missing while the directory says it should be there;
 * - `incompatible`: the directory holds data this version does not know (another program's LMDB
 *   file, or a newer format);
 * - `locked`: another live process has the store open;
 * - `closed`: the store was closed;
 * - `write_failed`: a write could not be committed: the store refuses further work, since what
 *   it holds in memory no longer matches the disk. Restart to recover from the last commit.
 */
export type LmdbStoreErrorReason = 'unreadable' | 'corrupt' | 'incompatible' | 'locked' | 'closed' | 'write_failed';

/** An error of the durable store, naming its directory and the cause. */
export class LmdbStoreError extends JunctionError {
  readonly reason: LmdbStoreErrorReason;
  /** The store directory. */
  readonly path: string;
  constructor(reason: LmdbStoreErrorReason, path: string, message: string, options?: { cause?: unknown }) {
    const cause = options?.cause;
    const detail = cause === undefined ? '' : `: ${cause instanceof Error ? cause.message : String(cause)}`;
    super('server_unavailable', `store ${path}: ${message}${detail}`, options);
    this.name = 'LmdbStoreError';
    this.reason = reason;
    this.path = path;
  }
}
