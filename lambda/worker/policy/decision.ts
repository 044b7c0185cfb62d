import { backoffDelayMs } from '../../backoff';
import { DeadLetterReason, MAX_DELAY_SECONDS } from '../../contract';
import { PenaltyFactor } from '../../sluice';
import type { ResponseClass } from '../../vendor-api/classify';
import type { WorkerPolicy } from '../../worker-settings';

/**
 * The worker's decision tree (docs/worker.md) as pure functions: the orchestrator hands in what
 * happened and the clock reading; these answer what to do next. No I/O, no clock, no
 * randomness of their own, so every branch is a row of a table test.
 */

/** Sleep inside the invocation, then acquire again. */
export interface Sleep {
  readonly kind: 'sleep';
  readonly ms: number;
}

/** Send a copy with this delay and acknowledge the original. */
export interface Requeue {
  readonly kind: 'requeue';
  readonly delaySeconds: number;
  readonly baseDelaySeconds: number;
  readonly why: string;
  /** A deferral by the open vendor circuit: the copy keeps its attempt (circuit.ts). */
  readonly keepAttempt?: boolean;
}

export interface DeadLetter {
  readonly kind: 'dead_letter';
  readonly reason: DeadLetterReason;
  readonly detail: string;
}

/** The vendor answered 2xx (or the cache did): the message is completed. */
export interface Done {
  readonly kind: 'done';
}

/**
 * Each stage answers only what it can: the age and attempt limits end a delivery
 * (`EndAction`); a `RetryIn` may also sleep (`CapacityAction`); only a vendor answer can
 * complete it (`AnswerAction`). So a caller that carries out an `EndAction` needs no branch
 * for a sleep or a completion: the compiler has ruled them out.
 */
export type EndAction = Requeue | DeadLetter;
export type CapacityAction = Sleep | EndAction;
export type AnswerAction = Done | Sleep | EndAction;
/** Any action of the tree. */
export type NextAction = AnswerAction;

/** What a decision knows about the record: fixed for the record, built once when it is prepared. */
export interface RecordContext {
  /** The slot deadline (see deadline.ts): nothing may run past it. */
  readonly deadlineMs: number;
  /** The attempt this delivery is (0 for the producer's send). */
  readonly attempt: number;
  readonly firstSeenAtMs: number;
  readonly inlineThresholdSeconds: number;
  readonly policy: WorkerPolicy;
  readonly random: () => number;
}

/** What the orchestrator knows when it must decide: the record's context, the clock reading, the inline sleep. */
export interface DecisionContext extends RecordContext {
  readonly nowMs: number;
  /** Whether this delivery already slept inline once (the tree allows one inline retry). */
  readonly inlineUsed: boolean;
}

/** The record's context at a clock reading, and whether the delivery already slept inline. */
export function contextAt(context: RecordContext, nowMs: number, inlineUsed = false): DecisionContext {
  return { ...context, nowMs, inlineUsed };
}

/**
 * `DelaySeconds = min(floor(wait) + 1, 900)`: the + 1 makes sure the bucket has refilled when
 * the copy becomes visible. Then full jitter, an integer in [0, requeueJitterSeconds], so
 * messages waiting on one bucket do not all come back in the same second; still ≤ 900.
 * A wait longer than 900 s is chained: the copy re-evaluates when it arrives.
 */
export function requeueDelay(
  waitSeconds: number,
  jitterSeconds: number,
  random: () => number,
): { readonly baseDelaySeconds: number; readonly delaySeconds: number } {
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
    throw new RangeError(`requeue wait ${waitSeconds} s must be a finite number of seconds ≥ 0`);
  }
  const baseDelaySeconds = Math.min(Math.floor(waitSeconds) + 1, MAX_DELAY_SECONDS);
  const share = Math.min(Math.max(random(), 0), 0.999_999);
  const jitter = Math.floor(share * (jitterSeconds + 1));
  return { baseDelaySeconds, delaySeconds: Math.min(baseDelaySeconds + jitter, MAX_DELAY_SECONDS) };
}

/** Requeue, unless the copy would go past the attempt or age limit: then the DLQ, with the reason. */
export function requeueOrDeadLetter(waitSeconds: number, why: string, context: DecisionContext): EndAction {
  const nextAttempt = context.attempt + 1;
  if (nextAttempt > context.policy.maxAttempts) {
    return {
      kind: 'dead_letter',
      reason: DeadLetterReason.maxAttempts,
      detail: `attempt ${nextAttempt} would exceed maxAttempts ${context.policy.maxAttempts} (${why})`,
    };
  }
  const expired = pastMaxAge(context, why);
  if (expired) return expired;
  const delay = requeueDelay(waitSeconds, context.policy.requeueJitterSeconds, context.random);
  return { kind: 'requeue', ...delay, why };
}

/**
 * On arrival: a message already `maxAgeSeconds` old (it waited in the queue, or its copy was
 * delayed that long) is dead-lettered without calling the vendor; stale work is not done late.
 */
export function expiredOnArrival(context: DecisionContext): DeadLetter | undefined {
  return pastMaxAge(context, 'on arrival');
}

export function pastMaxAge(
  context: Pick<DecisionContext, 'nowMs' | 'firstSeenAtMs' | 'policy'>,
  why: string,
): DeadLetter | undefined {
  const ageSeconds = (context.nowMs - context.firstSeenAtMs) / 1000;
  if (ageSeconds < context.policy.maxAgeSeconds) return undefined;
  return {
    kind: 'dead_letter',
    reason: DeadLetterReason.maxAge,
    detail: `age ${Math.floor(ageSeconds)} s reached maxAgeSeconds ${context.policy.maxAgeSeconds} (${why})`,
  };
}

/** A wait is slept inline only once, only when short, and only when it ends before the deadline. */
function inlineOrRequeue(waitSeconds: number, why: string, context: DecisionContext): CapacityAction {
  const ms = Math.ceil(waitSeconds * 1000);
  const fits = context.nowMs + ms < context.deadlineMs;
  if (!context.inlineUsed && waitSeconds <= context.inlineThresholdSeconds && fits) {
    return { kind: 'sleep', ms };
  }
  return requeueOrDeadLetter(waitSeconds, why, context);
}

/** Sluice answered RetryIn: sleep and try once more if short, else requeue after the wait. */
export function decideOnRetryIn(
  waitSeconds: number,
  dimension: string,
  context: DecisionContext,
): CapacityAction {
  return inlineOrRequeue(waitSeconds, capacityWhy(waitSeconds, dimension), context);
}

/**
 * Sluice answered RetryIn after the delivery's one inline sleep: requeue after the wait (what
 * `decideOnRetryIn` answers once the sleep is used, typed so that no sleep is left to handle).
 */
export function requeueOnRetryIn(
  waitSeconds: number,
  dimension: string,
  context: DecisionContext,
): EndAction {
  return requeueOrDeadLetter(waitSeconds, capacityWhy(waitSeconds, dimension), context);
}

function capacityWhy(waitSeconds: number, dimension: string): string {
  return `capacity: ${dimension} needs ${waitSeconds} s`;
}

/**
 * After a vendor 429: the factor for `penalize`. A long Retry-After says the vendor is far
 * over (0.3); a second 429 inside the window says the first penalty was not enough (0.5).
 */
export function penaltyFactor(
  retryAfterSeconds: number | undefined,
  lastRateLimitAtMs: number | undefined,
  nowMs: number,
  policy: WorkerPolicy,
): number {
  if (retryAfterSeconds !== undefined && retryAfterSeconds > policy.longRetryAfterSeconds) {
    return PenaltyFactor.longRetryAfter;
  }
  if (
    lastRateLimitAtMs !== undefined &&
    nowMs - lastRateLimitAtMs <= policy.repeated429WindowSeconds * 1000
  ) {
    return PenaltyFactor.repeatedRateLimit;
  }
  return PenaltyFactor.firstRateLimit;
}

/** What the vendor's answer means for the message (the penalty itself is the orchestrator's). */
export interface VendorAnswer {
  readonly class: ResponseClass;
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly outcomeUnknown: boolean;
  /** The operation is safe to repeat after an unknown outcome (idempotent, or honours the key). */
  readonly idempotent: boolean;
  /** Times this delivery met `busy` so far, for the backoff exponent. */
  readonly busyCount: number;
  readonly error?: string;
}

export function decideOnVendorAnswer(answer: VendorAnswer, context: DecisionContext): AnswerAction {
  const status = answer.status === undefined ? (answer.error ?? 'no answer') : `HTTP ${answer.status}`;
  switch (answer.class) {
    case 'success':
      return { kind: 'done' };
    case 'rate_limited':
      // The next acquire sees the penalized bucket: sleeping Retry-After and acquiring again
      // waits max(Retry-After, bucket wait) in all.
      return inlineOrRequeue(answer.retryAfterSeconds ?? 0, `vendor ${status} rate limited`, context);
    case 'busy': {
      const backoffMs = backoffDelayMs(
        answer.busyCount,
        { baseMs: context.policy.backoffBaseMs, maxMs: context.policy.backoffMaxMs },
        context.random,
      );
      const waitSeconds = Math.max(answer.retryAfterSeconds ?? 0, backoffMs / 1000);
      return inlineOrRequeue(waitSeconds, `vendor ${status} busy`, context);
    }
    case 'transient':
      if (answer.outcomeUnknown && !answer.idempotent) {
        return {
          kind: 'dead_letter',
          reason: DeadLetterReason.unknownOutcome,
          detail: `${status}: the request may have reached the vendor and is not safe to repeat`,
        };
      }
      // The vendor client already retried within its budget; come back later rather than spin.
      return requeueOrDeadLetter(
        backoffDelayMs(context.attempt, { baseMs: 1000, maxMs: 60_000 }, context.random) / 1000,
        `vendor ${status} transient`,
        context,
      );
    case 'unauthorized':
      return {
        kind: 'dead_letter',
        reason: DeadLetterReason.vendorUnauthorized,
        detail: `vendor answered ${status}`,
      };
    case 'rejected':
      // The client's reason, when it has one (a redirect's Location, an answer over the size cap).
      return {
        kind: 'dead_letter',
        reason: DeadLetterReason.vendorRejected,
        detail: `vendor answered ${status}${answer.error ? `: ${answer.error}` : ''}`,
      };
  }
}
