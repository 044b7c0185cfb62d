import type { BucketItem } from '../core/model';
import type { BucketStore } from '../store/bucket-store';

/**
 * The last item seen per pk. For time buckets a stale item is a safe basis for a denial
 * (others only take); a write conditioned on its version catches every change since.
 */
export class ItemCache {
  private readonly items = new Map<string, BucketItem>();
  /** When each item was last seen as the store holds it (read, written, or handed back by a conflict). */
  private readonly confirmedAtMs = new Map<string, number>();
  /** This client's grant writes that have not answered yet, per pk. */
  private readonly writing = new Map<string, Set<Promise<unknown>>>();

  constructor(
    private readonly store: BucketStore,
    private readonly clock: () => number,
  ) {}

  peek(pk: string): BucketItem | undefined {
    return this.items.get(pk);
  }

  remember(item: BucketItem | undefined, pk?: string): void {
    if (item) {
      this.items.set(item.pk, item);
      this.confirmedAtMs.set(item.pk, this.clock());
    } else if (pk !== undefined) {
      this.items.delete(pk);
      this.confirmedAtMs.delete(pk);
    }
  }

  /** When the cached item was last confirmed (read, written, or handed back by a conflict). */
  confirmedAt(pk: string): number | undefined {
    return this.confirmedAtMs.get(pk);
  }

  /** Whether the cached item was confirmed at most `ms` ago. */
  confirmedWithin(pk: string, ms: number): boolean {
    const at = this.confirmedAtMs.get(pk);
    return at !== undefined && this.clock() - at <= ms;
  }

  /** Sends a grant's write on `pk`, known as in flight (`inFlight`) until it answers. */
  async writingTo<T>(pk: string, write: () => Promise<T>): Promise<T> {
    const pending = write();
    let set = this.writing.get(pk);
    if (!set) {
      set = new Set();
      this.writing.set(pk, set);
    }
    set.add(pending);
    try {
      return await pending;
    } finally {
      set.delete(pending);
      if (set.size === 0) this.writing.delete(pk);
    }
  }

  /** This client's grant writes on any of `pks` still waiting for their answers. */
  inFlight(pks: Iterable<string>): Promise<unknown>[] {
    return [...pks].flatMap((pk) => [...(this.writing.get(pk) ?? [])]);
  }

  /** One consistent GetItem, and the cache takes the answer. */
  async refresh(pk: string): Promise<BucketItem | undefined> {
    const item = await this.store.get(pk);
    this.remember(item, pk);
    return item;
  }

  async load(pk: string): Promise<{ item: BucketItem | undefined; fresh: boolean }> {
    const cached = this.items.get(pk);
    if (cached) return { item: cached, fresh: false };
    return { item: await this.refresh(pk), fresh: true };
  }
}
