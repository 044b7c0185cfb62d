/**
 * Idempotency as a conditional record (in the bucket table: dynamo-store.ts) (the Powertools Idempotency
 * state machine, reduced to what the worker needs): `idem#<messageId>` is IN_PROGRESS while a
 * delivery works on it, with an expiry, and COMPLETED after the vendor's 2xx. SQS delivers
 * at least once and a requeued copy may meet its original, so a completed id must be
 * acknowledged without a second vendor call.
 *
 * The record also keeps the message's final outcome event (`outcome`, JSON, its body already
 * claim-checked to S3 when large) and whether it was published: the outcome is stored before
 * it is published, so a delivery after a failed publish publishes it again instead of calling
 * the vendor. A dead-lettered message leaves DEAD_LETTERED with its outcome; once that is
 * published, the id may start again (an operator redriving the DLQ).
 */

export const IDEMPOTENCY_KEY_PREFIX = 'idem#';
export const IdempotencyStatus = {
  inProgress: 'IN_PROGRESS',
  completed: 'COMPLETED',
  deadLettered: 'DEAD_LETTERED',
} as const;

/** Completed ids are remembered this long (DynamoDB TTL deletes them days after that, never earlier). */
export const COMPLETED_RETENTION_SECONDS = 7 * 86_400;

export type BeginResult =
  | { readonly state: 'started'; readonly owner: string }
  /**
   * The id ended: COMPLETED, or DEAD_LETTERED with an outcome not yet published. `outcome` is
   * the stored outcome event (absent for a completion recorded before outcomes existed).
   */
  | { readonly state: 'ended'; readonly outcome?: StoredOutcome }
  /** Another delivery holds an unexpired lease on this id: come back after `expiresAtMs`. */
  | { readonly state: 'in_progress'; readonly expiresAtMs: number };

/** A message's final outcome event as stored in its idempotency record. */
export interface StoredOutcome {
  /** The outcome event's JSON, exactly as published. */
  readonly json: string;
  readonly published: boolean;
}

export interface IdempotencyStore {
  /** Claims the id until `expiresAtMs` unless it ended or another unexpired claim holds it. */
  begin(messageId: string, nowMs: number, expiresAtMs: number): Promise<BeginResult>;
  /**
   * `begin` for several distinct ids at once, each deciding exactly as its own `begin` would;
   * the answer holds one result per id. The DynamoDB store sends them in one request where it
   * can (claims-together.ts says why the worker asks).
   */
  beginAll(
    messageIds: readonly string[],
    nowMs: number,
    expiresAtMs: number,
  ): Promise<ReadonlyMap<string, BeginResult>>;
  /** Records the 2xx, with the outcome event to publish (unpublished). */
  complete(messageId: string, nowMs: number, outcomeJson?: string): Promise<void>;
  /**
   * Records a dead-lettered end with its outcome event, unless the id already ended: then the
   * stored outcome is returned instead (one final outcome per id; a completion wins, and a
   * repeated dead letter keeps the first). Returns the stored outcome, published or not.
   */
  deadLettered(messageId: string, nowMs: number, outcomeJson: string): Promise<StoredOutcome | undefined>;
  /** Notes that the stored outcome was published, so later deliveries need not publish it again. */
  markPublished(messageId: string): Promise<void>;
  /** Gives the claim up (requeue, DLQ, error), so the next delivery needs not wait for the expiry. */
  abandon(messageId: string, owner: string): Promise<void>;
}

/** One record as the memory store keeps it: the fields the DynamoDB item carries that the contract reads. */
type MemoryRecord =
  | {
      readonly status: typeof IdempotencyStatus.inProgress;
      readonly owner: string;
      readonly expiresAtMs: number;
    }
  | {
      readonly status: typeof IdempotencyStatus.completed | typeof IdempotencyStatus.deadLettered;
      readonly outcome?: StoredOutcome;
    };

/**
 * The same contract in memory, for unit tests and the local stack without a table: each call
 * decides under the same conditions as the DynamoDB store's conditional writes (one test table
 * runs over both, test/idempotency/). No TTL: an ended record is kept for ever, which the
 * contract allows (DynamoDB's TTL removes one only days after it stops counting).
 */
export class MemoryIdempotencyStore implements IdempotencyStore {
  private readonly records = new Map<string, MemoryRecord>();

  constructor(private readonly newOwner: () => string) {}

  async begin(messageId: string, nowMs: number, expiresAtMs: number): Promise<BeginResult> {
    const current = this.records.get(messageId);
    // Lets through: a new id, a claim whose holder died, a dead letter whose outcome went out.
    const free =
      current === undefined ||
      (current.status === IdempotencyStatus.inProgress && current.expiresAtMs < nowMs) ||
      (current.status === IdempotencyStatus.deadLettered && current.outcome?.published === true);
    if (free) {
      const owner = this.newOwner();
      this.records.set(messageId, { status: IdempotencyStatus.inProgress, owner, expiresAtMs });
      return { state: 'started', owner };
    }
    if (current.status === IdempotencyStatus.inProgress) {
      return { state: 'in_progress', expiresAtMs: current.expiresAtMs };
    }
    return current.outcome ? { state: 'ended', outcome: current.outcome } : { state: 'ended' };
  }

  async beginAll(
    messageIds: readonly string[],
    nowMs: number,
    expiresAtMs: number,
  ): Promise<ReadonlyMap<string, BeginResult>> {
    assertDistinct(messageIds);
    const results = new Map<string, BeginResult>();
    for (const id of messageIds) results.set(id, await this.begin(id, nowMs, expiresAtMs));
    return results;
  }

  async complete(messageId: string, _nowMs: number, outcomeJson?: string): Promise<void> {
    // Unconditional, as the DynamoDB store's: the vendor answered 2xx.
    this.records.set(messageId, ended(IdempotencyStatus.completed, outcomeJson));
  }

  async deadLettered(
    messageId: string,
    _nowMs: number,
    outcomeJson: string,
  ): Promise<StoredOutcome | undefined> {
    const current = this.records.get(messageId);
    if (current !== undefined && current.status !== IdempotencyStatus.inProgress) return current.outcome;
    this.records.set(messageId, ended(IdempotencyStatus.deadLettered, outcomeJson));
    return { json: outcomeJson, published: false };
  }

  async markPublished(messageId: string): Promise<void> {
    const current = this.records.get(messageId);
    if (current === undefined || current.status === IdempotencyStatus.inProgress || !current.outcome) return;
    this.records.set(messageId, { ...current, outcome: { ...current.outcome, published: true } });
  }

  async abandon(messageId: string, owner: string): Promise<void> {
    const current = this.records.get(messageId);
    if (current?.status === IdempotencyStatus.inProgress && current.owner === owner) {
      this.records.delete(messageId);
    }
  }
}

function ended(
  status: typeof IdempotencyStatus.completed | typeof IdempotencyStatus.deadLettered,
  outcomeJson: string | undefined,
): MemoryRecord {
  return outcomeJson === undefined
    ? { status }
    : { status, outcome: { json: outcomeJson, published: false } };
}

/** One claim per id and request: DynamoDB refuses a batch that names one key twice. */
export function assertDistinct(messageIds: readonly string[]): void {
  const seen = new Set<string>();
  for (const id of messageIds) {
    if (seen.has(id)) throw new RangeError(`beginAll takes distinct ids; "${id}" is named twice`);
    seen.add(id);
  }
}
