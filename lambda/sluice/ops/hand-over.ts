import { leaseLifetimeMs } from '../core/leases';
import { holdsLeases } from '../core/limit-types';
import type { WriteOp } from '../core/model';
import type { PlannedLease } from '../core/plan/grant-plan';
import type { Granted } from '../core/types';
import type { WriterLane } from '../core/writer-lanes';
import type { LeaseHandOver } from '../core/writes';
import { SluiceInputError } from '../errors';
import { newLeaseId } from './acquire';
import { type AcquireOptions, productField } from './acquire-options';
import type { SluiceContext } from './context';
import { grantParts, makeGrant } from './grant';
import { SluiceLogEvent } from './log-events';

/** What a first attempt planned, kept so that a repeat after a lost answer writes the same. */
interface HandOverPlan {
  readonly lane: WriterLane;
  readonly op: WriteOp;
  readonly nowMs: number;
  readonly write: LeaseHandOver;
  readonly leases: readonly PlannedLease[];
}

/**
 * Hands a held grant's `concurrent` leases to the next holder in ONE conditional write: each
 * old lease is removed and a new one, at the same cost and with a fresh expiry, added (tokens
 * untouched), so the slot never counts twice, never falls free for another caller in between,
 * and a crash cannot leave half a hand-over (docs/design.md, "Handing a lease over").
 *
 * Answers the new grant (the old one's `release` then returns nothing), or undefined when the
 * write's condition failed: an old lease is no longer held (it was reclaimed after expiry), its
 * bucket's definition changed, or a `Retry-After` hold is in force. Nothing was handed over then,
 * and the old grant still holds what is left of it: release it and acquire.
 *
 * Only for a grant whose dimensions are all `concurrent` and on one item: a `requests` or
 * `tokens` dimension must be charged again for the next call, which a lease swap cannot do.
 * A repeat after a thrown `SluiceStoreError` (a lost answer) writes the same op and lease ids,
 * so it is recognised if the first was applied (docs/design.md, "Writes that are safe to repeat").
 */
export function handOver(
  ctx: SluiceContext,
  grant: Granted,
  options: AcquireOptions = {},
): Promise<Granted | undefined> {
  const parts = grantParts.get(grant);
  if (parts?.handingOver) return parts.handingOver;
  const handing = handOverOnce(ctx, grant, options);
  if (parts) {
    parts.handingOver = handing;
    const done = () => {
      parts.handingOver = undefined;
    };
    handing.then(done, done);
  }
  return handing;
}

async function handOverOnce(
  ctx: SluiceContext,
  grant: Granted,
  options: AcquireOptions,
): Promise<Granted | undefined> {
  const label = productField(options);
  const parts = grantParts.get(grant);
  if (!parts || parts.ctx !== ctx)
    throw new SluiceInputError('handOver: the grant was not made by this SluiceClient');
  const notLeased = parts.targets.filter((t) => !holdsLeases(t.limitType));
  if (notLeased.length > 0) {
    throw new SluiceInputError(
      `handOver applies to grants whose dimensions are all concurrent; ${notLeased
        .map((t) => `${t.address.dimension} is a ${t.limitType} bucket`)
        .join(', ')}: release the grant and acquire`,
    );
  }
  const pks = new Set(parts.leases.map((l) => l.address.pk));
  if (pks.size !== 1) {
    throw new SluiceInputError(
      `handOver needs the grant's leases on one item (one write); they are on ${pks.size}: release the grant and acquire`,
    );
  }
  if (parts.released()) {
    throw new SluiceInputError('handOver: the grant was released or handed over already');
  }
  const plan = (parts.handOverPlan as HandOverPlan | undefined) ?? planHandOver(ctx, parts.leases, options);
  parts.handOverPlan = plan;
  const outcome = await ctx.store.handOverLeases(plan.write);
  // Applied or refused, the op is settled: the lane may run the next operation.
  parts.handOverPlan = undefined;
  ctx.writers.give(plan.lane);
  if (!outcome.ok) {
    if (outcome.current) ctx.cache.remember(outcome.current);
    ctx.logger.info(SluiceLogEvent.handOverRefused, {
      dimensions: parts.targets.map((t) => t.address.dimension),
      lease_ids: parts.leases.map((l) => l.leaseId),
      ...label,
    });
    return undefined;
  }
  ctx.cache.remember(outcome.item);
  parts.handedOver();
  const next = makeGrant(ctx, parts.targets, plan.leases, plan.nowMs);
  ctx.logger.info(SluiceLogEvent.handedOver, {
    dimensions: parts.targets.map((t) => t.address.dimension),
    from_lease_ids: parts.leases.map((l) => l.leaseId),
    lease_ids: plan.leases.map((l) => l.leaseId),
    ...label,
  });
  return next;
}

function planHandOver(
  ctx: SluiceContext,
  leases: readonly PlannedLease[],
  options: AcquireOptions,
): HandOverPlan {
  const lane = ctx.writers.take();
  const op = lane.nextOp();
  const nowMs = ctx.clock();
  const expiresAtMs = nowMs + leaseLifetimeMs(ctx.settings, options.leaseTtlSeconds);
  const next = leases.map((l) => ({ ...l, leaseId: newLeaseId(ctx), expiresAtMs }));
  const write: LeaseHandOver = {
    pk: leases[0]!.address.pk,
    op,
    nowMs,
    leases: leases.map((l, i) => {
      const bucket = ctx.cache.peek(l.address.pk)?.buckets[l.address.metric];
      return {
        metric: l.address.metric,
        definition: bucket
          ? {
              limitType: bucket.limitType,
              capacityMilli: bucket.capacityMilli,
              windowMs: bucket.windowMs,
              costPerCall: bucket.costPerCall,
            }
          : { limitType: 'concurrent', capacityMilli: 0, windowMs: 0, costPerCall: 0 },
        fromLeaseId: l.leaseId,
        to: { id: next[i]!.leaseId, state: { costMilli: l.costMilli, expiresAtMs } },
      };
    }),
  };
  return { lane, op, nowMs, write, leases: next };
}
