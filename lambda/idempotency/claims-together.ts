import type { BeginResult, IdempotencyStore, StoredOutcome } from './store';

/**
 * Claims asked for together go to the store in one request, with the next wave's. Each record
 * of a batch claims its id first thing, and a claim alone is a write of its own: one request per
 * message, as much as the completion. The pool starts the records that fit at once in one turn
 * of the event loop, and each asks for its claim before its first wait; the claims asked for in
 * that turn are sent as one `beginAll` (one request per 25 ids on DynamoDB), for the same write
 * units, and each decides exactly as the record's own claim would, with the same expiry (they
 * share the invocation's deadline).
 *
 * When the slot has time for the next wave to start (`mayClaimAhead`, which the worker answers
 * from the time left and what one record may take), the request also claims the next records of
 * the batch's start order, as many as the pool runs at once: they start as slots free, and take
 * their answers from it, once. A claim taken ahead whose record did not start after all is given
 * back at the invocation's end (`giveBackUnused`), as a record gives back one it does not end
 * with; when the slot is short (a record's whole budget is the slot, as under `--chaos`) nothing
 * is taken ahead, so nothing is given back.
 *
 * An id asked for twice in one turn is claimed once, and the second ask claims on its own after
 * it (and finds the first's live claim, as it would have). Should the request fail, each claim
 * asked for is asked of the store on its own, as without it, and meets the fault there if it lasts.
 */
export class ClaimsTogether implements IdempotencyStore {
  private waiting: Ask[] = [];
  /** The invocation's ids in start order that no claim has been asked or taken for. */
  private unclaimed: string[] = [];
  /**
   * Claims taken ahead that their records have not asked for yet, registered before their
   * request goes out, so a record that starts while it is in flight waits for it (undefined:
   * the request failed, and the record claims on its own).
   */
  private ahead = new Map<string, Promise<BeginResult | undefined>>();

  constructor(
    private readonly store: IdempotencyStore,
    private readonly lookahead: {
      /** How many records the pool runs at once now: the next wave's size. */
      readonly poolSize: () => number;
      /** Whether a record claimed now for the next wave will still find time to start. */
      readonly mayClaimAhead: () => boolean;
    },
    private readonly onFailure: (step: 'claims together' | 'claims ahead given back', error: unknown) => void,
  ) {}

  /** The batch's ids in the order its records start; starts a new invocation. */
  plan(messageIds: readonly string[]): void {
    this.unclaimed = [...new Set(messageIds)];
    this.ahead = new Map();
  }

  /** Gives back every claim taken ahead that no record asked for; never throws. */
  async giveBackUnused(): Promise<void> {
    const unused = [...this.ahead.entries()];
    this.plan([]);
    for (const [id, taken] of unused) {
      const result = await taken;
      if (result?.state !== 'started') continue;
      try {
        await this.store.abandon(id, result.owner);
      } catch (error) {
        this.onFailure('claims ahead given back', error);
      }
    }
  }

  begin(messageId: string, nowMs: number, expiresAtMs: number): Promise<BeginResult> {
    const taken = this.ahead.get(messageId);
    if (taken !== undefined) {
      this.ahead.delete(messageId);
      return taken.then((result) => result ?? this.store.begin(messageId, nowMs, expiresAtMs));
    }
    this.unclaimed = this.unclaimed.filter((id) => id !== messageId);
    return new Promise((resolve, reject) => {
      if (this.waiting.length === 0) queueMicrotask(() => void this.flush());
      this.waiting.push({ messageId, nowMs, expiresAtMs, resolve, reject });
    });
  }

  private async flush(): Promise<void> {
    const asks = this.waiting;
    this.waiting = [];
    // One request per expiry (the records of one invocation share it); an id asked for twice,
    // and a lone ask, claim on their own.
    const groups = new Map<number, Ask[]>();
    const alone: Ask[] = [];
    for (const ask of asks) {
      const key = ask.expiresAtMs;
      const group = groups.get(key) ?? [];
      if (group.some((other) => other.messageId === ask.messageId)) alone.push(ask);
      else groups.set(key, [...group, ask]);
    }
    await Promise.all([...groups.values()].map((group) => this.claimTogether(group, alone)));
    for (const ask of alone) await this.claimAlone(ask);
  }

  private async claimTogether(group: readonly Ask[], alone: Ask[]): Promise<void> {
    const [first] = group;
    const nextWave = this.lookahead.mayClaimAhead()
      ? this.unclaimed.splice(0, Math.max(0, this.lookahead.poolSize()))
      : [];
    if (group.length === 1 && first && nextWave.length === 0) {
      alone.unshift(first);
      return;
    }
    const ids = [...group.map((ask) => ask.messageId), ...nextWave];
    // The asks of one turn lie a millisecond or two apart: the earliest instant takes over no
    // expired claim that any of them would not have.
    const nowMs = Math.min(...group.map((ask) => ask.nowMs));
    const request = this.store.beginAll(ids, nowMs, first!.expiresAtMs).catch((error: unknown) => {
      this.onFailure('claims together', error);
      return undefined;
    });
    for (const id of nextWave)
      this.ahead.set(
        id,
        request.then((results) => results?.get(id)),
      );
    const results = await request;
    for (const ask of group) {
      const result = results?.get(ask.messageId);
      if (result) ask.resolve(result);
      else alone.push(ask);
    }
  }

  private async claimAlone(ask: Ask): Promise<void> {
    try {
      ask.resolve(await this.store.begin(ask.messageId, ask.nowMs, ask.expiresAtMs));
    } catch (error) {
      ask.reject(error);
    }
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

interface Ask {
  readonly messageId: string;
  readonly nowMs: number;
  readonly expiresAtMs: number;
  readonly resolve: (result: BeginResult) => void;
  readonly reject: (error: unknown) => void;
}
