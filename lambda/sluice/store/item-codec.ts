import { isLimitType } from '../core/limit-types';
import type { BucketDefinitionState, BucketItem, BucketState, LeaseState, ShareUse } from '../core/model';
import { UNSCALED } from '../core/rate-scale';
import { SluiceError } from '../errors';
import { SWEEP_INDEX, TABLE_PARTITION_KEY } from './table';

/**
 * The stored shape (snake_case attribute names, integers only) and the model, both ways.
 * `DynamoBucketStore` marshals these records; attribute names are listed once, here.
 */
export const Attr = {
  version: 'version',
  buckets: 'buckets',
  templates: 'templates',
  writers: 'writers',
  limitType: 'limit_type',
  capacityMilli: 'capacity_milli',
  windowMs: 'window_ms',
  costPerCall: 'cost_per_call',
  tokensMilli: 'tokens_milli',
  debtMilli: 'debt_milli',
  lastRefillAtMs: 'last_refill_at_ms',
  leases: 'leases',
  costMilli: 'cost_milli',
  expiresAtMs: 'expires_at_ms',
  rateScalePermille: 'rate_scale_permille',
  rateScaleAtMs: 'rate_scale_at_ms',
  rateCeilingPermille: 'rate_ceiling_permille',
  grantedSinceCutMilli: 'rate_granted_milli',
  rateProbeDelayMs: 'rate_probe_delay_ms',
  holdUntilMs: 'hold_until_ms',
  fullAtMs: 'full_at_ms',
  sliceSharePermille: 'slice_share_permille',
  sliceMs: 'slice_ms',
  sharesPermille: 'shares_permille',
  shareUse: 'share_use',
  reserveMilli: 'reserve_milli',
  activeUntilMs: 'active_until_ms',
  needMilli: 'need_milli',
} as const;

type StoredRecord = Record<string, unknown>;

export function definitionToRecord(d: BucketDefinitionState): StoredRecord {
  return {
    [Attr.limitType]: d.limitType,
    [Attr.capacityMilli]: d.capacityMilli,
    [Attr.windowMs]: d.windowMs,
    [Attr.costPerCall]: d.costPerCall,
    ...(d.slicing
      ? { [Attr.sliceSharePermille]: d.slicing.sharePermille, [Attr.sliceMs]: d.slicing.sliceMs }
      : {}),
    ...(d.sharesPermille === undefined ? {} : { [Attr.sharesPermille]: { ...d.sharesPermille } }),
  };
}

export function bucketToRecord(b: BucketState): StoredRecord {
  const leases = Object.fromEntries(
    Object.entries(b.leases).map(([id, l]) => [
      id,
      { [Attr.costMilli]: l.costMilli, [Attr.expiresAtMs]: l.expiresAtMs },
    ]),
  );
  return {
    ...definitionToRecord(b),
    [Attr.tokensMilli]: b.tokensMilli,
    [Attr.debtMilli]: b.debtMilli,
    [Attr.lastRefillAtMs]: b.lastRefillAtMs,
    [Attr.leases]: leases,
    // The rate scale only where it differs from a bucket never cut: most buckets never are, and
    // every byte of the item is paid on every grant (1 WCU per KB).
    ...unlessDefault(Attr.rateScalePermille, b.rateScalePermille, UNSCALED.rateScalePermille),
    ...unlessDefault(Attr.rateScaleAtMs, b.rateScaleAtMs, UNSCALED.rateScaleAtMs),
    ...unlessDefault(Attr.rateCeilingPermille, b.rateCeilingPermille, UNSCALED.rateCeilingPermille),
    ...unlessDefault(Attr.grantedSinceCutMilli, b.grantedSinceCutMilli, UNSCALED.grantedSinceCutMilli),
    // Set by a cut only: a bucket never cut carries no probe delay.
    ...(b.rateProbeDelayMs === undefined ? {} : { [Attr.rateProbeDelayMs]: b.rateProbeDelayMs }),
    // A Retry-After hold only while one was ever set: a grant writes no extra attribute.
    ...unlessDefault(Attr.holdUntilMs, b.holdUntilMs ?? 0, 0),
    ...(b.fullAtMs === undefined ? {} : { [Attr.fullAtMs]: b.fullAtMs }),
    // Only the products with demand now: idle ones are pruned, so the item stays small.
    ...(b.shareUse === undefined ? {} : { [Attr.shareUse]: mapValues(b.shareUse, shareUseToRecord) }),
  };
}

function shareUseToRecord(u: ShareUse): StoredRecord {
  return {
    [Attr.reserveMilli]: u.reserveMilli,
    [Attr.activeUntilMs]: u.activeUntilMs,
    [Attr.needMilli]: u.needMilli,
  };
}

function unlessDefault(name: string, value: number, absent: number): StoredRecord {
  return value === absent ? {} : { [name]: value };
}

export function itemToRecord(item: BucketItem): StoredRecord {
  return {
    [TABLE_PARTITION_KEY]: item.pk,
    // A bucket item is in the sweep index from its creation (the store's updates set it too).
    [SWEEP_INDEX.partitionKey]: item.pk,
    [Attr.version]: item.version,
    [Attr.buckets]: mapValues(item.buckets, bucketToRecord),
    [Attr.templates]: mapValues(item.templates, definitionToRecord),
    [Attr.writers]: { ...item.writers },
  };
}

export function itemFromRecord(record: StoredRecord): BucketItem {
  const pk = record[TABLE_PARTITION_KEY];
  if (typeof pk !== 'string') throw new SluiceError(`stored item without a string ${TABLE_PARTITION_KEY}`);
  return {
    pk,
    version: num(record, Attr.version, pk),
    buckets: mapValues(asMap(record[Attr.buckets]), (r, m) => bucketFromRecord(asMap(r), `${pk}.${m}`)),
    templates: mapValues(asMap(record[Attr.templates]), (r, m) =>
      definitionFromRecord(asMap(r), `${pk}.${m}`),
    ),
    // Absent on items written before writes carried an op: no writer applied anything yet.
    writers: mapValues(asMap(record[Attr.writers]), (seq, writer) => {
      if (typeof seq !== 'number')
        throw new SluiceError(`stored item ${pk} has a writer ${writer} without a number`);
      return seq;
    }),
  };
}

function definitionFromRecord(r: StoredRecord, where: string): BucketDefinitionState {
  const limitType = r[Attr.limitType];
  if (!isLimitType(limitType)) {
    throw new SluiceError(
      `stored item ${where} has an unknown ${Attr.limitType} ${JSON.stringify(limitType)}`,
    );
  }
  return {
    limitType,
    capacityMilli: num(r, Attr.capacityMilli, where),
    windowMs: num(r, Attr.windowMs, where),
    costPerCall: num(r, Attr.costPerCall, where),
    ...(r[Attr.sliceMs] === undefined
      ? {}
      : {
          slicing: {
            sharePermille: num(r, Attr.sliceSharePermille, where),
            sliceMs: num(r, Attr.sliceMs, where),
          },
        }),
    ...(r[Attr.sharesPermille] === undefined
      ? {}
      : {
          sharesPermille: mapValues(asMap(r[Attr.sharesPermille]), (_v, p) =>
            num(asMap(r[Attr.sharesPermille]), p, `${where}.${Attr.sharesPermille}`),
          ),
        }),
  };
}

function bucketFromRecord(r: StoredRecord, where: string): BucketState {
  const leases = mapValues(asMap(r[Attr.leases]), (l, id): LeaseState => {
    const lease = asMap(l);
    return {
      costMilli: num(lease, Attr.costMilli, `${where}.${id}`),
      expiresAtMs: num(lease, Attr.expiresAtMs, `${where}.${id}`),
    };
  });
  return {
    ...definitionFromRecord(r, where),
    tokensMilli: num(r, Attr.tokensMilli, where),
    debtMilli: num(r, Attr.debtMilli, where),
    lastRefillAtMs: num(r, Attr.lastRefillAtMs, where),
    leases,
    // Absent: never cut (also how items written before the rate scale existed read).
    rateScalePermille: numOr(r, Attr.rateScalePermille, UNSCALED.rateScalePermille, where),
    rateScaleAtMs: numOr(r, Attr.rateScaleAtMs, UNSCALED.rateScaleAtMs, where),
    rateCeilingPermille: numOr(r, Attr.rateCeilingPermille, UNSCALED.rateCeilingPermille, where),
    grantedSinceCutMilli: numOr(r, Attr.grantedSinceCutMilli, UNSCALED.grantedSinceCutMilli, where),
    ...(r[Attr.rateProbeDelayMs] === undefined
      ? {}
      : { rateProbeDelayMs: num(r, Attr.rateProbeDelayMs, where) }),
    ...(r[Attr.holdUntilMs] === undefined ? {} : { holdUntilMs: num(r, Attr.holdUntilMs, where) }),
    ...(r[Attr.fullAtMs] === undefined ? {} : { fullAtMs: num(r, Attr.fullAtMs, where) }),
    ...(r[Attr.shareUse] === undefined
      ? {}
      : {
          shareUse: mapValues(asMap(r[Attr.shareUse]), (u, p): ShareUse => {
            const use = asMap(u);
            const at = `${where}.${Attr.shareUse}.${p}`;
            return {
              reserveMilli: num(use, Attr.reserveMilli, at),
              activeUntilMs: num(use, Attr.activeUntilMs, at),
              needMilli: num(use, Attr.needMilli, at),
            };
          }),
        }),
  };
}

function numOr(r: StoredRecord, name: string, absent: number, where: string): number {
  return r[name] === undefined ? absent : num(r, name, where);
}

function num(r: StoredRecord, name: string, where: string): number {
  const value = r[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new SluiceError(`stored item ${where} has no number ${name} (got ${JSON.stringify(value)})`);
  }
  return value;
}

function asMap(value: unknown): StoredRecord {
  return typeof value === 'object' && value !== null ? (value as StoredRecord) : {};
}

function mapValues<A, B>(
  record: Readonly<Record<string, A>>,
  f: (a: A, key: string) => B,
): Record<string, B> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, f(v, k)]));
}
