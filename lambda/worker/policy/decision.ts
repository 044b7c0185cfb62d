import { backoffDelayMs } from '../../backoff';
import { DeadLetterReason, MAX_DELAY_SECONDS } from '../../contract';
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

/**
 * On arrival, after the idempotency claim: another delivery of the same id holding a live claim
 * for `heldElsewhereSeconds` more comes back after it has ended either way; otherwise a message
 * already too old is dead-lettered (`expiredOnArrival`). Undefined: the delivery goes on.
 */
export function decideOnArrival(
  context: DecisionContext,
  heldElsewhereSeconds?: number,
): EndAction | undefined {
  if (heldElsewhereSeconds !== undefined) {
    return requeueOrDeadLetter(heldElsewhereSeconds, 'same id in progress elsewhere', context);
  }
  return expiredOnArrival(context);
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

/** Short sleeps the head of a bucket's line may add after its first, before it gives up its turn. */
export const HEAD_REMAINDER_WAITS = 2;

/**
 * Where a record's acquire stands when Sluice refused it, in the pool's line for the refusing
 * bucket (run-attempts.ts): its first refusal; refused again after it waited behind others in
 * the line (its first wait was stale); refused after a sleep as the line's head, with the extra
 * sleeps it took since; or refused after it never got its turn within the inline threshold.
 */
export type RefusalStage =
  | { readonly kind: 'first' }
  | { readonly kind: 'behind_line' }
  | { readonly kind: 'head'; readonly extraSleeps: number }
  | { readonly kind: 'no_turn' };

/** What the tree is asked about an acquire: no time left in the invocation, or a refusal at a stage. */
export type CapacityStep =
  | { readonly kind: 'no_time' }
  | {
      readonly kind: 'refused';
      readonly waitSeconds: number;
      readonly dimension: string;
      readonly stage: RefusalStage;
    };

/**
 * The tree's one answer to an acquire that got no grant. A first refusal, or one after waiting
 * behind others, sleeps once if short (in the line's turn), else ends. The head of a line keeps
 * its turn through what the bucket added after its wait was computed (a resync to the vendor's
 * remaining count erases the refill since the last grant; another environment took a unit): a
 * few more short sleeps, each within the inline threshold and the deadline, instead of a requeue
 * that sends it to the back of the queue. Past those, or without a turn, the delivery's one
 * inline sleep is used: requeue after the wait.
 */
export function decideOnCapacity(step: CapacityStep, context: DecisionContext): CapacityAction {
  if (step.kind === 'no_time') return requeueOrDeadLetter(0, 'no time left in this invocation', context);
  const { waitSeconds, dimension, stage } = step;
  if (stage.kind === 'first' || stage.kind === 'behind_line') {
    return decideOnRetryIn(waitSeconds, dimension, context);
  }
  if (stage.kind === 'head' && stage.extraSleeps < HEAD_REMAINDER_WAITS) {
    const again = decideOnRetryIn(waitSeconds, dimension, context);
    if (again.kind === 'sleep') return again;
  }
  return requeueOnRetryIn(waitSeconds, dimension, { ...context, inlineUsed: true });
}

function capacityWhy(waitSeconds: number, dimension: string): string {
  return `capacity: ${dimension} needs ${waitSeconds} s`;
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
  const unsafe = answer.outcomeUnknown && !answer.idempotent;
  // Full jitter: a busy vendor's backoff grows with the busy answers of this delivery; a
  // transient failure (that is safe to repeat) comes back later rather than spin.
  const backoffMs =
    answer.class === 'busy'
      ? backoffDelayMs(
          answer.busyCount,
          { baseMs: context.policy.backoffBaseMs, maxMs: context.policy.backoffMaxMs },
          context.random,
        )
      : answer.class === 'transient' && !unsafe
        ? backoffDelayMs(context.attempt, { baseMs: 1000, maxMs: 60_000 }, context.random)
        : 0;
  switch (answer.class) {
    case 'success':
      return { kind: 'done' };
    case 'rate_limited':
      // The next acquire sees the penalized bucket: sleeping Retry-After and acquiring again
      // waits max(Retry-After, bucket wait) in all.
      return inlineOrRequeue(answer.retryAfterSeconds ?? 0, `vendor ${status} rate limited`, context);
    case 'busy': {
      const waitSeconds = Math.max(answer.retryAfterSeconds ?? 0, backoffMs / 1000);
      return inlineOrRequeue(waitSeconds, `vendor ${status} busy`, context);
    }
    case 'transient':
      if (unsafe) {
        return {
          kind: 'dead_letter',
          reason: DeadLetterReason.unknownOutcome,
          detail: `${status}: the request may have reached the vendor and is not safe to repeat`,
        };
      }
      // The vendor client already retried within its budget; come back later rather than spin.
      return requeueOrDeadLetter(backoffMs / 1000, `vendor ${status} transient`, context);
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
