import type { BeginResult, IdempotencyStore, StoredOutcome } from './store';

/**
 * The claims of one SQS batch, taken together before its records start. Each record claims its
 * id first thing, and a claim is a write of its own: one request per message, as much as the
 * completion. Taken for the whole batch at once (`beginAll`: one request per 25 ids on
 * DynamoDB), the claims cost the same write units in a fraction of the requests, and decide
 * exactly as the records' own claims would:
 *
 * - every claim expires when a record's would, at the invocation's slot deadline plus the
 *   margin, so a claim taken early holds no longer than one taken late;
 * - a record's `begin` takes its answer from the batch (once: an id named twice in a batch
 *   claims the second time in the store, and finds the first's live claim, as before);
 * - a claim no record took (its record never started: the slot ran out, and the pool requeued
 *   it) is given back at the invocation's end, as a record gives back one it does not end
 *   with; should that fail, the claim ends at its expiry, and the copy waits until then;
 * - should the batch's claims fail, nothing is lost: every record claims on its own, as
 *   without them, and meets the fault there if it lasts.
 *
 * One instance serves one environment, which runs one invocation at a time.
 */
export class ClaimsAhead implements IdempotencyStore {
  private ahead = new Map<string, BeginResult>();

  constructor(
    private readonly store: IdempotencyStore,
    private readonly onFailure: (step: 'claims ahead' | 'claims ahead given back', error: unknown) => void,
  ) {}

  /** Claims the ids (duplicates named once) until `expiresAtMs`; one id alone is left to its record. */
  async take(messageIds: readonly string[], nowMs: number, expiresAtMs: number): Promise<void> {
    const distinct = [...new Set(messageIds)];
    if (distinct.length < 2) return;
    try {
      this.ahead = new Map(await this.store.beginAll(distinct, nowMs, expiresAtMs));
    } catch (error) {
      this.onFailure('claims ahead', error);
    }
  }

  /** Gives back every claim taken ahead that no record took; never throws. */
  async giveBackUnused(): Promise<void> {
    const unused = [...this.ahead.entries()];
    this.ahead = new Map();
    for (const [id, result] of unused) {
      if (result.state !== 'started') continue;
      try {
        await this.store.abandon(id, result.owner);
      } catch (error) {
        this.onFailure('claims ahead given back', error);
      }
    }
  }

  begin(messageId: string, nowMs: number, expiresAtMs: number): Promise<BeginResult> {
    const taken = this.ahead.get(messageId);
    if (taken === undefined) return this.store.begin(messageId, nowMs, expiresAtMs);
    this.ahead.delete(messageId);
    return Promise.resolve(taken);
  }

  beginAll(
    messageIds: readonly string[],
    nowMs: number,
    expiresAtMs: number,
  ): Promise<ReadonlyMap<string, BeginResult>> {
    return this.store.beginAll(messageIds, nowMs, expiresAtMs);
  }

  complete(messageId: string, nowMs: number, outcomeJson?: string): Promise<void> {
    return this.store.complete(messageId, nowMs, outcomeJson);
  }

  deadLettered(messageId: string, nowMs: number, outcomeJson: string): Promise<StoredOutcome | undefined> {
    return this.store.deadLettered(messageId, nowMs, outcomeJson);
  }

  markPublished(messageId: string): Promise<void> {
    return this.store.markPublished(messageId);
  }

  abandon(messageId: string, owner: string): Promise<void> {
    return this.store.abandon(messageId, owner);
  }
}
