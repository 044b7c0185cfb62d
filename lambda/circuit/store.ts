import type { CircuitState } from './state';

/**
 * Where the vendor circuit lives: one item per vendor beside the buckets (`circuit#<vendor>`
 * in the bucket table), never inside a bucket item, so the circuit and the buckets change
 * independently. Every write is conditioned on the version read, and carries the op ids of
 * its last writers, so a write whose answer was lost and that the AWS SDK sent again is
 * recognised as already applied (as the SDK's bucket writes are, docs/design.md).
 */

export const CIRCUIT_KEY_PREFIX = 'circuit#';

/** How many recent op ids an item keeps: enough for the writes a lost answer can overlap. */
export const CIRCUIT_OPS_KEPT = 8;

export interface StoredCircuit {
  readonly state: CircuitState;
  /** 0 when no item exists yet; UNREADABLE_VERSION when the item's own version cannot be read. */
  readonly version: number;
  /** Op ids of the latest writes, newest first. */
  readonly ops: readonly string[];
  /**
   * Set when the item exists but cannot be decoded (a hand edit, a bad restore, another
   * program's write): what is wrong with it. The state is then `CLOSED` (calls flow rather than
   * stopping every message), and the next write replaces the item.
   */
  readonly unreadable?: string;
}

/** The version of an item whose `circuit_version` is missing or not a number: a write replaces it. */
export const UNREADABLE_VERSION = -1;

export type CircuitWriteOutcome =
  | { readonly written: true }
  /** The version moved on: here is the item as it is now (none: it was deleted). */
  | { readonly written: false; readonly current: StoredCircuit | undefined };

export interface CircuitStore {
  read(vendor: string): Promise<StoredCircuit | undefined>;
  /**
   * Writes `next` if the stored version is still `expectedVersion` (0: only if there is no
   * item; UNREADABLE_VERSION: only if the item is there without a readable version).
   */
  write(vendor: string, next: StoredCircuit, expectedVersion: number): Promise<CircuitWriteOutcome>;
}

/** The same contract in memory, for unit tests and a worker without a table. */
export class MemoryCircuitStore implements CircuitStore {
  private readonly items = new Map<string, StoredCircuit>();

  async read(vendor: string): Promise<StoredCircuit | undefined> {
    return this.items.get(vendor);
  }

  async write(vendor: string, next: StoredCircuit, expectedVersion: number): Promise<CircuitWriteOutcome> {
    const current = this.items.get(vendor);
    if ((current?.version ?? 0) !== expectedVersion) return { written: false, current };
    this.items.set(vendor, next);
    return { written: true };
  }
}
