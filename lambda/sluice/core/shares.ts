import { availableMilli, refill, refillRate } from './bucket-math';
import type { BucketState, ShareUse } from './model';
import { mulDivCeil, mulDivFloor } from './mul-div';

/**
 * Fair shares on one bucket (docs/design.md, "Fair shares"), as pure functions of the bucket
 * and the instant. The bucket's own tokens stay the one account every grant is taken from, so
 * the bucket never admits more than its limit; shares only decide *who* may take them:
 *
 * - each product with demand has a reserve, a part of the bucket's tokens that only it may take,
 *   growing at its share of the refill (capped at its share of the capacity, or its last cost);
 * - the rest of the tokens is common: any caller may take it, first come first served;
 * - a product without demand has no reserve: its share of the refill stays common, so it is
 *   lent to the others at once. Its first acquire (granted or refused) gives it a reserve again,
 *   so from then on its share of the refill is its own: capacity lent is taken back at once.
 *
 * The grant and the refusal that marks demand are written with the bucket in the same write
 * (planGrant, plan/grant-plan.ts); nothing here costs a request of its own.
 */

/**
 * A product label: short, lowercase, fit for a log field and a metric dimension. The same rule
 * as a product name in the stack configuration and on a message (lambda/producer/outcome.ts),
 * so any configured product is a valid label and no label names a product that cannot exist.
 */
export const PRODUCT_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;

/** Full share: 1000 permille. */
const WHOLE = 1000;
/** The shortest time a product keeps its reserve after its last acquire. */
export const MIN_ACTIVE_MS = 1_000;
/** A refused product keeps its reserve this much past the wait it was told. */
export const ACTIVE_SLACK_MS = 500;

/** Whether shares apply to this bucket: a time bucket (refill) with at least one share. */
export function isShared(bucket: BucketState): boolean {
  return (
    bucket.windowMs > 0 &&
    bucket.sharesPermille !== undefined &&
    Object.keys(bucket.sharesPermille).length > 0
  );
}

/** The share of `product`, permille (0: none, or no product named). */
export function shareOf(bucket: BucketState, product: string | undefined): number {
  return product === undefined ? 0 : (bucket.sharesPermille?.[product] ?? 0);
}

/** The reserve a product may hold: its share of the capacity, or at least the cost it waits for. */
function reserveCapMilli(bucket: BucketState, share: number, needMilli: number): number {
  return Math.max(mulDivFloor(bucket.capacityMilli, share, WHOLE), needMilli);
}

/**
 * Carries the reserves over a refill: `refilled` is `refill(before, nowMs)`. Each product with
 * demand gains its share of what refill credited, at the same rate (the rate scale included);
 * a product idle at `nowMs` (or whose share was removed) is pruned, its reserve left common.
 * Reserves are claims on the tokens, not tokens: after a penalty they may sum past the tokens
 * there are (the common part is then 0), and a product that took another's claim when none
 * could be met (`admitShare`) owes it (a negative reserve) until its share has refilled it.
 */
export function refillShares(before: BucketState, refilled: BucketState, nowMs: number): BucketState {
  if (!isShared(refilled) || refilled.shareUse === undefined) return refilled;
  const creditedMs = Math.max(0, refilled.lastRefillAtMs - before.lastRefillAtMs);
  const { milli, perMs } = refillRate(before);
  const creditedMilli = creditedMs > 0 ? mulDivFloor(creditedMs, milli, perMs) : 0;
  const use: Record<string, ShareUse> = {};
  for (const [product, entry] of Object.entries(refilled.shareUse)) {
    const share = shareOf(refilled, product);
    if (share === 0 || entry.activeUntilMs <= nowMs) continue;
    const gained = mulDivFloor(creditedMilli, share, WHOLE);
    const cap = reserveCapMilli(refilled, share, entry.needMilli);
    use[product] = { ...entry, reserveMilli: Math.min(cap, entry.reserveMilli + gained) };
  }
  return withUse(refilled, use);
}

/** `refill`, with the reserves carried over it: what every write that refills a bucket applies. */
export function refillWithShares(bucket: BucketState, nowMs: number): BucketState {
  return refillShares(bucket, refill(bucket, nowMs), nowMs);
}

function withUse(bucket: BucketState, use: Record<string, ShareUse>): BucketState {
  const { shareUse: _old, ...rest } = bucket;
  return Object.keys(use).length === 0 ? rest : { ...rest, shareUse: use };
}

/** What `product` may take now from a bucket refilled with `refillShares`. */
export interface ShareView {
  /** Its own reserve. */
  readonly ownMilli: number;
  /** The tokens no product with demand has reserved. */
  readonly commonMilli: number;
}

export function shareView(bucket: BucketState, product: string | undefined): ShareView {
  const use = bucket.shareUse ?? {};
  const reserved = Object.values(use).reduce((sum, e) => sum + Math.max(0, e.reserveMilli), 0);
  const ownMilli = product === undefined ? 0 : (use[product]?.reserveMilli ?? 0);
  return { ownMilli, commonMilli: Math.max(0, availableMilli(bucket) - reserved) };
}

/** How a grant's cost was taken on a shared bucket: from the product's reserve, and from the common tokens. */
export interface ShareTake {
  readonly reservedMilli: number;
  readonly commonMilli: number;
}

export type ShareAdmission =
  | { readonly ok: true; readonly bucket: BucketState; readonly take: ShareTake }
  | {
      readonly ok: false;
      readonly waitMs: number;
      /** The bucket with the product's demand marked, when that needs writing; else undefined. */
      readonly marked: BucketState | undefined;
    };

/**
 * Admits `costMilli` for `product` on a shared bucket refilled with `refillShares` and already
 * taken from by `take` (bucket-math.ts): `taken` is the bucket after the take, `refilled` before
 * it. The cost must fit the product's reserve plus the common tokens; it comes from the reserve
 * first. Admitted, the product has demand for `activeForMs` more; refused, it is told how long
 * its reserve and the common part need, and its demand is marked (`marked`) if not marked
 * already for that long.
 */
export function admitShare(
  refilled: BucketState,
  taken: BucketState | undefined,
  product: string | undefined,
  costMilli: number,
  nowMs: number,
): ShareAdmission {
  const view = shareView(refilled, product);
  const share = shareOf(refilled, product);
  const own = Math.max(0, view.ownMilli);
  const fits = own + view.commonMilli >= costMilli;
  // A full bucket gains nothing more: if no claim can be met (each product's share of the
  // capacity below its cost), the product owed the most goes first, and owes what it took.
  const owedMost =
    !fits && share > 0 && availableMilli(refilled) >= refilled.capacityMilli && owesMost(refilled, product!);
  if (taken !== undefined && (fits || owedMost)) {
    const reservedMilli = Math.min(own, costMilli);
    const take = { reservedMilli, commonMilli: costMilli - reservedMilli };
    if (share === 0 || product === undefined) return { ok: true, bucket: taken, take };
    const entry: ShareUse = {
      reserveMilli: fits
        ? view.ownMilli - reservedMilli
        : Math.max(-refilled.capacityMilli, view.ownMilli - costMilli),
      activeUntilMs: Math.max(
        refilled.shareUse?.[product]?.activeUntilMs ?? 0,
        nowMs + activeForMs(refilled, share, costMilli),
      ),
      needMilli: costMilli,
    };
    return { ok: true, bucket: withUse(taken, { ...taken.shareUse, [product]: entry }), take };
  }
  const waitMs = shareWaitMs(refilled, product, costMilli - own - view.commonMilli, nowMs);
  return { ok: false, waitMs, marked: markDemand(refilled, product, share, costMilli, nowMs + waitMs) };
}

/** Whether `product`'s reserve is, of its cap, at least every other's: the one owed the most. */
function owesMost(bucket: BucketState, product: string): boolean {
  const use = bucket.shareUse ?? {};
  const owed = (p: string) => {
    const entry = use[p];
    if (entry === undefined) return 0;
    return entry.reserveMilli / reserveCapMilli(bucket, shareOf(bucket, p), entry.needMilli);
  };
  const mine = owed(product);
  return Object.keys(use).every((p) => p === product || owed(p) <= mine);
}

/**
 * How long a product keeps its reserve after a grant: twice the time its share of the refill
 * takes to cover the cost again (the next acquire of a product with a backlog comes sooner),
 * at least `MIN_ACTIVE_MS`.
 */
export function activeForMs(bucket: BucketState, share: number, costMilli: number): number {
  const { milli, perMs } = refillRate(bucket);
  const perShareMilli = mulDivFloor(milli, share, WHOLE);
  if (perShareMilli <= 0) return MIN_ACTIVE_MS;
  return Math.max(MIN_ACTIVE_MS, 2 * mulDivCeil(costMilli, perMs, perShareMilli));
}

/**
 * The wait until `missingMilli` more is within the product's reach, at the part of the refill
 * that is not reserved for the other products with demand (its own share and the common rest);
 * counted from `lastRefillAtMs`, as the bucket's wait is. No later than the first of the others'
 * demand lapses: its reserve is then common, lent at once, and the caller should ask again
 * rather than sleep on at the narrower reach (a product whose records have all been served
 * keeps its reserve only `activeForMs`). While the others reserve everything (a product without
 * a share, all shares taken), exactly until the first of them goes idle.
 */
export function shareWaitMs(
  bucket: BucketState,
  product: string | undefined,
  missingMilli: number,
  nowMs: number,
): number {
  if (missingMilli <= 0) return 0;
  const others = Object.entries(bucket.shareUse ?? {}).filter(([p]) => p !== product);
  const firstLapseMs =
    others.length === 0
      ? Number.POSITIVE_INFINITY
      : Math.max(1, Math.min(...others.map(([, e]) => e.activeUntilMs)) - nowMs);
  const reach = WHOLE - others.reduce((sum, [p]) => sum + shareOf(bucket, p), 0);
  if (reach <= 0) return firstLapseMs;
  const { milli, perMs } = refillRate(bucket);
  const reachMilli = Math.max(1, mulDivFloor(milli, reach, WHOLE));
  const atReachMs = Math.max(1, bucket.lastRefillAtMs + mulDivCeil(missingMilli, perMs, reachMilli) - nowMs);
  return Math.min(atReachMs, firstLapseMs);
}

/**
 * The bucket with `product`'s demand marked until `untilMs` plus the slack (a reserve created
 * empty if it had none), or undefined when it has no share or is marked that long already: a
 * product waiting its turn writes once, not on every refusal.
 */
export function markDemand(
  bucket: BucketState,
  product: string | undefined,
  share: number,
  costMilli: number,
  untilMs: number,
): BucketState | undefined {
  if (product === undefined || share === 0) return undefined;
  const entry = bucket.shareUse?.[product];
  if (
    entry !== undefined &&
    entry.activeUntilMs >= untilMs + ACTIVE_SLACK_MS / 2 &&
    entry.needMilli >= costMilli
  )
    return undefined;
  const next: ShareUse = {
    reserveMilli: entry?.reserveMilli ?? 0,
    activeUntilMs: Math.max(entry?.activeUntilMs ?? 0, untilMs + ACTIVE_SLACK_MS),
    needMilli: costMilli,
  };
  return withUse(bucket, { ...bucket.shareUse, [product]: next });
}

/** The definition's shares as the configuration gives them (fractions of 1), in permille; validated by the caller. */
export function sharesToPermille(shares: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(shares).map(([p, s]) => [p, Math.round(s * WHOLE)]));
}
