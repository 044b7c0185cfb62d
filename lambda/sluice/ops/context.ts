import type { SluiceSettings } from '../core/settings';
import type { WriterLanes } from '../core/writer-lanes';
import type { BucketStore } from '../store/bucket-store';
import type { ItemCache } from './item-cache';

/** Everything the operations share: settings, the store, injected time and randomness, the cache. */
export interface SluiceContext {
  readonly settings: SluiceSettings;
  readonly store: BucketStore;
  readonly clock: () => number;
  readonly random: () => number;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly logger: SluiceLogger;
  readonly cache: ItemCache;
  /** The op every mutating write carries, so a repeat of an applied write is recognised. */
  readonly writers: WriterLanes;
}

/** What the SDK needs of a logger; Powertools' `Logger` fits, and tests can record events. */
export type SluiceLogFields = { [key: string]: unknown };

export interface SluiceLogger {
  debug(message: string, fields: SluiceLogFields): void;
  info(message: string, fields: SluiceLogFields): void;
  warn(message: string, fields: SluiceLogFields): void;
  error(message: string, fields: SluiceLogFields): void;
}
