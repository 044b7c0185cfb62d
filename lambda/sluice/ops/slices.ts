import type { WriteOp } from '../core/model';
import type { Target } from '../core/plan/grant-plan';
import { planSlice } from '../core/slices';
import { applyWrite } from '../core/writes';
import type { SluiceContext } from './context';
import { unknownDimension } from './items';

/**
 * Leases for hot buckets, the process side (core/slices.ts has the arithmetic; docs/design.md,
 * "Leases for hot buckets"): the slices this client holds, granted from with no write. One
 * renewal per bucket at a time: acquires arriving meanwhile wait for it and grant from the new
 * slice (they coalesce into one write).
 */

interface HeldSlice {
  readonly pk: string;
  readonly metric: string;
  readonly id: string;
  readonly sizeMilli: number;
  usedMilli: number;
  /** By this client's clock: no grant from the slice at or after it. */
  readonly expiresAtMs: number;
}

export type SliceAnswer =
  | { readonly kind: 'granted'; readonly nowMs: number }
  | { readonly kind: 'wait'; readonly waitMs: number }
  /** The bucket is not sliced (any more): the caller takes the ordinary path. */
  | { readonly kind: 'unsliced' };

type Renewal = { readonly kind: 'renewed' } | Exclude<SliceAnswer, { kind: 'granted' }>;

class SliceHolder {
  readonly held = new Map<string, HeldSlice>();
  readonly renewing = new Map<string, Promise<Renewal>>();
  /** Slices whose write's answer was lost, by bucket: adopted if the item turns out to hold one. */
  readonly lost = new Map<string, Set<string>>();
}

const holders = new WeakMap<SluiceContext, SliceHolder>();

function holderOf(ctx: SluiceContext): SliceHolder {
  let holder = holders.get(ctx);
  if (!holder) {
    holder = new SliceHolder();
    holders.set(ctx, holder);
  }
  return holder;
}

const keyOf = (pk: string, metric: string) => `${pk}\u0000${metric}`;

/**
 * One acquire of one sliced dimension: from the slice held if it covers the cost and has not
 * expired, else after a renewal (this acquire's, or one already under way).
 */
export async function acquireFromSlice(
  ctx: SluiceContext,
  target: Target,
  op: WriteOp,
  fresh: Set<string>,
  staleRefusalMs: number,
  newId: () => string,
): Promise<SliceAnswer> {
  const holder = holderOf(ctx);
  const key = keyOf(target.address.pk, target.address.metric);
  for (let round = 0; round <= ctx.settings.maxRetries + 1; round++) {
    const nowMs = ctx.clock();
    const slice = holder.held.get(key);
    if (slice && nowMs < slice.expiresAtMs && slice.usedMilli + target.costMilli <= slice.sizeMilli) {
      slice.usedMilli += target.costMilli;
      return { kind: 'granted', nowMs };
    }
    let renewal = holder.renewing.get(key);
    if (!renewal) {
      renewal = renew(ctx, holder, target, op, fresh, staleRefusalMs, newId).finally(() =>
        holder.renewing.delete(key),
      );
      holder.renewing.set(key, renewal);
    }
    const outcome = await renewal;
    if (outcome.kind !== 'renewed') return outcome;
  }
  // Others in this process used every new slice first: a short wait, as after write conflicts.
  return { kind: 'wait', waitMs: 5 };
}

async function renew(
  ctx: SluiceContext,
  holder: SliceHolder,
  target: Target,
  op: WriteOp,
  fresh: Set<string>,
  staleRefusalMs: number,
  newId: () => string,
): Promise<Renewal> {
  const { pk, metric } = target.address;
  const key = keyOf(pk, metric);
  for (let attempt = 0; attempt <= ctx.settings.maxRetries; ) {
    const item = ctx.cache.peek(pk);
    const bucket = item?.buckets[metric];
    if (!item || !bucket) throw unknownDimension(target.address);
    if (!bucket.slicing) return { kind: 'unsliced' };
    const lostId = [...(holder.lost.get(key) ?? [])].find((id) => bucket.leases[id]);
    const orphan = lostId === undefined ? undefined : bucket.leases[lostId];
    if (lostId !== undefined && orphan) {
      // Our own slice, written though its answer was lost: ours to grant from.
      holder.lost.delete(key);
      holder.held.set(key, {
        pk,
        metric,
        id: lostId,
        sizeMilli: orphan.costMilli,
        usedMilli: 0,
        expiresAtMs: orphan.expiresAtMs,
      });
      return { kind: 'renewed' };
    }
    const old = holder.held.get(key);
    const nowMs = ctx.clock();
    const id = newId();
    const plan = planSlice(bucket, nowMs, {
      costMilli: target.costMilli,
      id,
      expiresAtMs: nowMs + bucket.slicing.sliceMs,
      ...(old && bucket.leases[old.id]
        ? { returning: { id: old.id, unusedMilli: old.sizeMilli - old.usedMilli } }
        : {}),
    });
    if (!plan.ok) {
      // Refused only from a view this recent (the same bound as any refusal, acquire.ts).
      if (!fresh.has(pk) && !ctx.cache.confirmedWithin(pk, staleRefusalMs)) {
        await ctx.cache.refresh(pk);
        fresh.add(pk);
        continue;
      }
      return { kind: 'wait', waitMs: plan.waitMs };
    }
    const write = { pk, expectedVersion: item.version, buckets: { [metric]: plan.bucket }, op };
    let outcome: Awaited<ReturnType<typeof ctx.store.write>>;
    try {
      outcome = await ctx.store.write(write);
    } catch (error) {
      // Unknown whether it was applied: the next renewal adopts the new slice if the item holds
      // it, and the old one is given up here (it may have been returned by this write).
      holder.held.delete(key);
      holder.lost.set(key, new Set([...(holder.lost.get(key) ?? []), id]));
      throw error;
    }
    if (outcome.ok) {
      ctx.cache.remember(applyWrite(item, write));
      holder.held.set(key, {
        pk,
        metric,
        id,
        sizeMilli: plan.slice.costMilli,
        usedMilli: 0,
        expiresAtMs: plan.slice.expiresAtMs,
      });
      return { kind: 'renewed' };
    }
    if (outcome.current) ctx.cache.remember(outcome.current);
    else await ctx.cache.refresh(pk);
    fresh.add(pk);
    attempt++;
  }
  const ceiling = 25 * 2 ** ctx.settings.maxRetries;
  return { kind: 'wait', waitMs: Math.max(5, Math.floor(ctx.random() * ceiling)) };
}

/**
 * Gives back what this client's slices did not use, each exactly once (`returnLease` removes the
 * slice and adds its unused part to the stored tokens); a slice already dropped after its expiry
 * returns nothing. Call it before a process ends (a Lambda's shutdown, the end of a batch).
 */
export async function returnSlices(ctx: SluiceContext): Promise<number> {
  const holder = holderOf(ctx);
  let returnedMilli = 0;
  for (const [key, slice] of [...holder.held]) {
    holder.held.delete(key);
    const unusedMilli = slice.sizeMilli - slice.usedMilli;
    const outcome = await ctx.store.returnLease({
      pk: slice.pk,
      metric: slice.metric,
      leaseId: slice.id,
      costMilli: unusedMilli,
    });
    if (outcome.ok) {
      ctx.cache.remember(outcome.item);
      returnedMilli += unusedMilli;
    }
  }
  return returnedMilli;
}
