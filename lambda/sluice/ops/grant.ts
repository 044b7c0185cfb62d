import { settle as settleBucket } from '../core/bucket-math';
import { countsTokens } from '../core/limit-types';
import { type BucketState, MILLI, type WriteOp } from '../core/model';
import type { PlannedLease, Target } from '../core/plan/grant-plan';
import { refillWithShares, type ShareTake } from '../core/shares';
import type { Dimension, Granted } from '../core/types';
import type { WriterLane } from '../core/writer-lanes';
import { SluiceInputError } from '../errors';
import type { SluiceContext } from './context';
import { SluiceLogEvent } from './log-events';
import { mutateItem } from './mutate';

/**
 * What a grant was made of, for `handOver` (hand-over.ts): kept out of the public `Granted`
 * value, and known only for grants this client made.
 */
export interface GrantParts {
  /** The client's context the grant was made in: only that client may hand it over. */
  readonly ctx: SluiceContext;
  readonly targets: readonly Target[];
  readonly leases: readonly PlannedLease[];
  /** Whether `release` was called (a released lease cannot be handed over). */
  released(): boolean;
  /** The leases now belong to another grant: this one's release returns nothing. */
  handedOver(): void;
  /** Kept from a failed hand-over to its repeat, so the repeat is recognised if the first was applied. */
  handOverPlan?: unknown;
  /** A hand-over in progress: a second call meanwhile gets the same answer (one op, one lane). */
  handingOver?: Promise<Granted | undefined>;
}

export const grantParts = new WeakMap<Granted, GrantParts>();

/** Builds the `Granted` value: release returns concurrent leases exactly once; settle adjusts token estimates. */
export function makeGrant(
  ctx: SluiceContext,
  targets: readonly Target[],
  leases: readonly PlannedLease[],
  grantedAtMs: number,
  shares: Readonly<Record<string, ShareTake>> = {},
): Granted {
  let releasing: Promise<void> | undefined;
  let released = false;
  let settling: Promise<void> | undefined;
  // Kept from a failed settle to its retry: if the lost attempt was applied, the retry is recognised.
  let settleLane: { lane: WriterLane; op: WriteOp } | undefined;
  const release = () => {
    released = true;
    // A failed release (store unavailable) may be tried again; a done one is never repeated.
    releasing ??= releaseLeases(ctx, leases).catch((error: unknown) => {
      releasing = undefined;
      throw error;
    });
    return releasing;
  };
  const settle = (actual: Readonly<Record<Dimension, number>>) => {
    if (settling) {
      return Promise.reject(
        new SluiceInputError('settle was already called on this grant: usage is recorded once'),
      );
    }
    if (!settleLane) {
      const lane = ctx.writers.take();
      settleLane = { lane, op: lane.nextOp() };
    }
    const { lane, op } = settleLane;
    // A failed settle (a store error, a mistyped dimension) may be called again; a done one never.
    settling = settleUsage(ctx, targets, actual, grantedAtMs, op).then(
      () => ctx.writers.give(lane),
      (error: unknown) => {
        settling = undefined;
        throw error;
      },
    );
    return settling;
  };
  const grant: Granted = {
    outcome: 'Granted',
    costs: Object.fromEntries(targets.map((t) => [t.address.dimension, t.cost])),
    tokenDimensions: targets.filter((t) => countsTokens(t.limitType)).map((t) => t.address.dimension),
    leases: leases.map((l) => ({
      dimension: l.address.dimension,
      leaseId: l.leaseId,
      cost: l.costMilli / MILLI,
      expiresAtMs: l.expiresAtMs,
    })),
    grantedAtMs,
    ...shareUnits(shares),
    release,
    settle,
  };
  grantParts.set(grant, {
    ctx,
    targets,
    leases,
    released: () => released,
    handedOver: () => {
      released = true;
      releasing = Promise.resolve();
    },
  });
  return grant;
}

function shareUnits(shares: Readonly<Record<string, ShareTake>>): Pick<Granted, 'shares'> {
  const entries = Object.entries(shares);
  if (entries.length === 0) return {};
  return {
    shares: Object.fromEntries(
      entries.map(([d, t]) => [d, { reserved: t.reservedMilli / MILLI, common: t.commonMilli / MILLI }]),
    ),
  };
}

async function releaseLeases(ctx: SluiceContext, leases: readonly PlannedLease[]): Promise<void> {
  for (const lease of leases) {
    const outcome = await ctx.store.returnLease({
      pk: lease.address.pk,
      metric: lease.address.metric,
      leaseId: lease.leaseId,
      costMilli: lease.costMilli,
    });
    if (outcome.ok) ctx.cache.remember(outcome.item);
    // Not found: reconcile already reclaimed it after expiry; its capacity came back then.
    ctx.logger.info(SluiceLogEvent.releaseOk, {
      dimension: lease.address.dimension,
      lease_id: lease.leaseId,
      returned: outcome.ok,
    });
  }
}

async function settleUsage(
  ctx: SluiceContext,
  targets: readonly Target[],
  actual: Readonly<Record<Dimension, number>>,
  grantedAtMs: number,
  op: WriteOp,
) {
  const byPk = new Map<string, { target: Target; actualMilli: number }[]>();
  for (const [dimension, used] of Object.entries(actual)) {
    const target = targets.find((t) => t.address.dimension === dimension);
    if (!target)
      throw new SluiceInputError(
        `settle: ${dimension} was not granted here (granted: ${targets.map((t) => t.address.dimension).join(', ')})`,
      );
    if (typeof used !== 'number' || !Number.isFinite(used) || used < 0) {
      throw new SluiceInputError(
        `settle: actual usage of ${dimension} must be a finite number >= 0 (got ${used})`,
      );
    }
    const entry = { target, actualMilli: Math.ceil(used * MILLI) };
    byPk.set(target.address.pk, [...(byPk.get(target.address.pk) ?? []), entry]);
  }
  for (const [pk, entries] of byPk) {
    // One conditional write per item, however many of its dimensions are settled.
    await mutateItem(
      ctx,
      pk,
      (item, nowMs) => {
        const buckets: Record<string, BucketState> = {};
        for (const { target, actualMilli } of entries) {
          const bucket = item?.buckets[target.address.metric];
          if (!bucket)
            throw new SluiceInputError(`settle: bucket ${target.address.dimension} no longer exists`);
          if (!countsTokens(bucket.limitType)) {
            throw new SluiceInputError(
              `settle applies to tokens buckets; ${target.address.dimension} is a ${bucket.limitType} bucket`,
            );
          }
          buckets[target.address.metric] = settleBucket(
            refillWithShares(bucket, nowMs),
            target.costMilli,
            actualMilli,
            nowMs - grantedAtMs,
          );
        }
        return { write: { buckets }, result: undefined };
      },
      { op },
    );
  }
}
