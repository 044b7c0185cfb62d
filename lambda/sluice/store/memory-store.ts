import type { BucketItem } from '../core/model';
import {
  appliedBefore,
  applyHandOver,
  applyStoredTake,
  applyWrite,
  type BucketWrite,
  type LeaseHandOver,
  type StoredTake,
  sameDefinition,
  transactionAppliedBefore,
} from '../core/writes';
import { SluiceError } from '../errors';
import type {
  BucketStore,
  CreateOutcome,
  LeaseReturn,
  LeaseReturnOutcome,
  ScanPage,
  StoredTakeOutcome,
  TemplateCheck,
  TransactOutcome,
  WriteOutcome,
} from './bucket-store';

/**
 * A real in-memory store with DynamoDB's conditional semantics: conditions on the version,
 * the current item handed back on a failed condition (ALL_OLD), all-or-nothing transactions.
 * Used by the simulations, the property tests and the local benchmarks; it passes the same
 * contract suite as `DynamoBucketStore`. Items are deep-copied in and out, as over a wire.
 */
export class MemoryBucketStore implements BucketStore {
  private readonly items = new Map<string, BucketItem>();
  /** Requests served, by operation: lets simulations count round trips like a meter would. */
  readonly requests = {
    get: 0,
    create: 0,
    write: 0,
    writeAll: 0,
    takeStored: 0,
    handOverLeases: 0,
    returnLease: 0,
    scan: 0,
    sweep: 0,
  };

  async get(pk: string): Promise<BucketItem | undefined> {
    this.requests.get++;
    return copy(this.items.get(pk));
  }

  async create(item: BucketItem, template?: TemplateCheck): Promise<CreateOutcome> {
    this.requests.create++;
    if (template) {
      const holder = this.items.get(template.pk);
      const held = holder?.templates[template.metric];
      if (!held || !sameDefinition(held, template.definition))
        return { ok: false, current: undefined, templateItem: copy(holder) };
    }
    const current = this.items.get(item.pk);
    if (current) return { ok: false, current: copy(current) };
    this.items.set(item.pk, copy(item) as BucketItem);
    return { ok: true };
  }

  async write(write: BucketWrite): Promise<WriteOutcome> {
    this.requests.write++;
    const current = this.items.get(write.pk);
    if (appliedBefore(current, write.op)) return { ok: true };
    if (!current || current.version !== write.expectedVersion) return { ok: false, current: copy(current) };
    this.items.set(write.pk, copy(applyWrite(current, write)) as BucketItem);
    return { ok: true };
  }

  async writeAll(writes: readonly BucketWrite[]): Promise<TransactOutcome> {
    this.requests.writeAll++;
    const pks = new Set(writes.map((w) => w.pk));
    if (pks.size !== writes.length)
      throw new SluiceError('writeAll: two writes on one item (DynamoDB forbids it)');
    const failed = new Map<string, BucketItem | undefined>();
    for (const write of writes) {
      const current = this.items.get(write.pk);
      if (!current || current.version !== write.expectedVersion) failed.set(write.pk, copy(current));
    }
    if (failed.size > 0) {
      return transactionAppliedBefore(writes, failed) ? { ok: true } : { ok: false, current: failed };
    }
    for (const write of writes) {
      this.items.set(write.pk, copy(applyWrite(this.items.get(write.pk)!, write)) as BucketItem);
    }
    return { ok: true };
  }

  async takeStored(take: StoredTake): Promise<StoredTakeOutcome> {
    this.requests.takeStored++;
    const current = this.items.get(take.pk);
    if (appliedBefore(current, take.op)) return { ok: true, item: copy(current)! };
    const next = applyStoredTake(current, take);
    if (!next) return { ok: false, current: copy(current) };
    this.items.set(take.pk, copy(next)!);
    return { ok: true, item: copy(next)! };
  }

  async handOverLeases(handOver: LeaseHandOver): Promise<StoredTakeOutcome> {
    this.requests.handOverLeases++;
    const current = this.items.get(handOver.pk);
    if (appliedBefore(current, handOver.op)) return { ok: true, item: copy(current)! };
    const next = applyHandOver(current, handOver);
    if (!next) return { ok: false, current: copy(current) };
    this.items.set(handOver.pk, copy(next)!);
    return { ok: true, item: copy(next)! };
  }

  async returnLease(lease: LeaseReturn): Promise<LeaseReturnOutcome> {
    this.requests.returnLease++;
    const item = this.items.get(lease.pk);
    const bucket = item?.buckets[lease.metric];
    const held = bucket?.leases[lease.leaseId];
    if (!item || !bucket || !held) return { ok: false };
    if (lease.expiredBeforeMs !== undefined && !(held.expiresAtMs < lease.expiredBeforeMs))
      return { ok: false };
    const { [lease.leaseId]: _returned, ...leases } = bucket.leases;
    const next: BucketItem = {
      ...item,
      version: item.version + 1,
      buckets: {
        ...item.buckets,
        [lease.metric]: { ...bucket, leases, tokensMilli: bucket.tokensMilli + lease.costMilli },
      },
    };
    this.items.set(lease.pk, next);
    return { ok: true, item: copy(next)! };
  }

  async scan(cursor?: string, limit = 100): Promise<ScanPage> {
    this.requests.scan++;
    return this.page(cursor, limit);
  }

  /** This store holds bucket items only, so its sweep reads what its scan reads. */
  async sweep(cursor?: string, limit = 100): Promise<ScanPage> {
    this.requests.sweep++;
    return this.page(cursor, limit);
  }

  /** Every item of this store is in its sweep from its creation. */
  async markForSweep(_pk: string): Promise<void> {}

  private page(cursor: string | undefined, limit: number): ScanPage {
    const pks = [...this.items.keys()].sort().filter((pk) => cursor === undefined || pk > cursor);
    const page = pks.slice(0, limit);
    const items = page.map((pk) => copy(this.items.get(pk))!);
    return pks.length > limit ? { items, cursor: page[page.length - 1] } : { items };
  }
}

function copy(item: BucketItem | undefined): BucketItem | undefined {
  return item === undefined ? undefined : structuredClone(item);
}
