import { penaltyFactor } from '../../lambda/worker/policy/answer-writes';
import { slotDeadlineMs } from '../../lambda/worker/policy/deadline';
import {
  type DecisionContext,
  decideOnRetryIn,
  decideOnVendorAnswer,
  expiredOnArrival,
  requeueDelay,
  requeueOnRetryIn,
  type VendorAnswer,
} from '../../lambda/worker/policy/decision';
import { PolicySchema } from '../../lambda/worker-settings';

const policy = PolicySchema.parse({ maxAttempts: 5, maxAgeSeconds: 3_600, requeueJitterSeconds: 3 });
const T0 = 1_700_000_000_000;

function contextWith(overrides: Partial<DecisionContext> = {}): DecisionContext {
  return {
    nowMs: T0,
    deadlineMs: T0 + 25_000,
    attempt: 0,
    firstSeenAtMs: T0,
    inlineUsed: false,
    inlineThresholdSeconds: 5,
    policy,
    random: () => 0,
    ...overrides,
  };
}

const answer = (overrides: Partial<VendorAnswer>): VendorAnswer => ({
  class: 'success',
  outcomeUnknown: false,
  idempotent: false,
  busyCount: 0,
  ...overrides,
});

describe('the requeue delay', () => {
  it.each([
    [4.9, 5],
    [5, 6],
    [5.1, 6],
    [899.5, 900],
    [2_000, 900],
    [0, 1],
  ])('for a wait of %p s is min(floor(wait) + 1, 900) = %p before jitter', (wait, base) => {
    expect(requeueDelay(wait, 3, () => 0)).toEqual({ baseDelaySeconds: base, delaySeconds: base });
  });

  it('adds full jitter within [0, requeueJitterSeconds] and never passes 900', () => {
    const jittered = [0, 0.24, 0.25, 0.5, 0.75, 0.999_999_9].map(
      (share) => requeueDelay(5.1, 3, () => share).delaySeconds,
    );
    expect(jittered).toEqual([6, 6, 7, 8, 9, 9]);
    expect(requeueDelay(899.5, 3, () => 0.99).delaySeconds).toBe(900);
    expect(requeueDelay(2_000, 3, () => 0.99).delaySeconds).toBe(900);
  });

  it('refuses a negative or infinite wait with a message naming the value', () => {
    expect(() => requeueDelay(-1, 3, () => 0)).toThrow(
      'requeue wait -1 s must be a finite number of seconds ≥ 0',
    );
    expect(() => requeueDelay(Number.POSITIVE_INFINITY, 3, () => 0)).toThrow(
      'requeue wait Infinity s must be a finite number of seconds ≥ 0',
    );
  });
});

describe('a RetryIn from Sluice', () => {
  it.each([
    ['sleeps inline for 4.9 s', 4.9, {}, { kind: 'sleep', ms: 4_900 }],
    ['sleeps inline for exactly the 5 s threshold', 5, {}, { kind: 'sleep', ms: 5_000 }],
    [
      'requeues a 5.1 s wait with delay 6',
      5.1,
      {},
      { kind: 'requeue', baseDelaySeconds: 6, delaySeconds: 6, why: 'capacity: openai#rpm needs 5.1 s' },
    ],
    [
      'requeues a short wait once the inline retry was used',
      1,
      { inlineUsed: true },
      { kind: 'requeue', baseDelaySeconds: 2, delaySeconds: 2, why: 'capacity: openai#rpm needs 1 s' },
    ],
    [
      'requeues a short wait that would end past the slot deadline',
      4,
      { deadlineMs: T0 + 3_000 },
      { kind: 'requeue', baseDelaySeconds: 5, delaySeconds: 5, why: 'capacity: openai#rpm needs 4 s' },
    ],
    [
      'chains a 2000 s wait as a 900 s requeue',
      2_000,
      {},
      { kind: 'requeue', baseDelaySeconds: 900, delaySeconds: 900, why: 'capacity: openai#rpm needs 2000 s' },
    ],
    [
      'dead-letters instead of requeueing past maxAttempts',
      10,
      { attempt: 5 },
      {
        kind: 'dead_letter',
        reason: 'max_attempts',
        detail: 'attempt 6 would exceed maxAttempts 5 (capacity: openai#rpm needs 10 s)',
      },
    ],
    [
      'dead-letters instead of requeueing past maxAgeSeconds',
      10,
      { firstSeenAtMs: T0 - 3_600_000 },
      {
        kind: 'dead_letter',
        reason: 'max_age',
        detail: 'age 3600 s reached maxAgeSeconds 3600 (capacity: openai#rpm needs 10 s)',
      },
    ],
  ])('%s', (_title, wait, overrides, expected) => {
    expect(decideOnRetryIn(wait, 'openai#rpm', contextWith(overrides))).toEqual(expected);
  });

  it.each([
    ['a short wait', 1, {}],
    ['past maxAttempts', 10, { attempt: 5 }],
    ['past maxAgeSeconds', 10, { firstSeenAtMs: T0 - 3_600_000 }],
  ])(
    'after the inline sleep, answers %s as decideOnRetryIn does once the sleep is used',
    (_title, wait, overrides) => {
      const used = contextWith({ ...overrides, inlineUsed: true });
      const answer = requeueOnRetryIn(wait, 'openai#rpm', used);
      expect(answer.kind).not.toBe('sleep');
      expect(answer).toEqual(decideOnRetryIn(wait, 'openai#rpm', used));
    },
  );
});

describe('the age limit on arrival', () => {
  it.each([
    ['a message 1 ms short of maxAgeSeconds goes on', T0 - 3_599_999, undefined],
    [
      'a message maxAgeSeconds old is dead-lettered before any call',
      T0 - 3_600_000,
      {
        kind: 'dead_letter',
        reason: 'max_age',
        detail: 'age 3600 s reached maxAgeSeconds 3600 (on arrival)',
      },
    ],
  ])('%s', (_title, firstSeenAtMs, expected) => {
    expect(expiredOnArrival(contextWith({ firstSeenAtMs }))).toEqual(expected);
  });
});

describe('the vendor answer after a grant', () => {
  it.each([
    ['a 2xx is done', answer({ class: 'success', status: 200 }), {}, { kind: 'done' }],
    [
      'a 429 with a short Retry-After sleeps it inline',
      answer({ class: 'rate_limited', status: 429, retryAfterSeconds: 2 }),
      {},
      { kind: 'sleep', ms: 2_000 },
    ],
    [
      'a 429 with a long Retry-After requeues after it',
      answer({ class: 'rate_limited', status: 429, retryAfterSeconds: 40 }),
      {},
      { kind: 'requeue', baseDelaySeconds: 41, delaySeconds: 41, why: 'vendor HTTP 429 rate limited' },
    ],
    [
      'a second 429 in one delivery requeues',
      answer({ class: 'rate_limited', status: 429, retryAfterSeconds: 1 }),
      { inlineUsed: true },
      { kind: 'requeue', baseDelaySeconds: 2, delaySeconds: 2, why: 'vendor HTTP 429 rate limited' },
    ],
    [
      'a 503 backs off inline with full jitter',
      answer({ class: 'busy', status: 503, busyCount: 1 }),
      { random: (): number => 0.5 },
      { kind: 'sleep', ms: 200 },
    ],
    [
      'a 409 busy requeues once the inline retry was used',
      answer({ class: 'busy', status: 409 }),
      { inlineUsed: true, random: (): number => 0.5 },
      { kind: 'requeue', baseDelaySeconds: 1, delaySeconds: 3, why: 'vendor HTTP 409 busy' },
    ],
    [
      'a transient answer requeues with backoff',
      answer({ class: 'transient', status: 502 }),
      { attempt: 2, random: (): number => 0.5 },
      { kind: 'requeue', baseDelaySeconds: 3, delaySeconds: 5, why: 'vendor HTTP 502 transient' },
    ],
    [
      'an unknown outcome of a request unsafe to repeat is dead-lettered, never repeated',
      answer({ class: 'transient', outcomeUnknown: true, error: 'timeout after the request was sent' }),
      {},
      {
        kind: 'dead_letter',
        reason: 'unknown_outcome',
        detail:
          'timeout after the request was sent: the request may have reached the vendor and is not safe to repeat',
      },
    ],
    [
      'an unknown outcome of an idempotent request requeues',
      answer({ class: 'transient', outcomeUnknown: true, idempotent: true, error: 'socket hang up' }),
      {},
      { kind: 'requeue', baseDelaySeconds: 1, delaySeconds: 1, why: 'vendor socket hang up transient' },
    ],
    [
      'a 401 is dead-lettered as unauthorized',
      answer({ class: 'unauthorized', status: 401 }),
      {},
      { kind: 'dead_letter', reason: 'vendor_unauthorized', detail: 'vendor answered HTTP 401' },
    ],
    [
      'a 422 is dead-lettered as rejected',
      answer({ class: 'rejected', status: 422 }),
      {},
      { kind: 'dead_letter', reason: 'vendor_rejected', detail: 'vendor answered HTTP 422' },
    ],
  ])('%s', (_title, vendorAnswer, overrides, expected) => {
    expect(decideOnVendorAnswer(vendorAnswer, contextWith(overrides))).toEqual(expected);
  });
});

describe('the penalty factor', () => {
  it.each([
    ['0.8 for a first 429', undefined, undefined, 0.8],
    ['0.5 for another 429 within the window', undefined, T0 - 60_000, 0.5],
    ['0.8 when the last 429 is older than the window', undefined, T0 - 60_001, 0.8],
    ['0.3 for a Retry-After above the long threshold', 31, T0 - 1_000, 0.3],
    ['not 0.3 for a Retry-After at the threshold', 30, undefined, 0.8],
  ])('is %s', (_title, retryAfter, lastAt, factor) => {
    expect(penaltyFactor(retryAfter, lastAt, T0, policy)).toBe(factor);
  });
});

describe('the slot deadline', () => {
  it('is the remaining time minus 5 s, capped by the configured timeout', () => {
    expect(slotDeadlineMs(T0, 30_000, 30)).toBe(T0 + 25_000);
    expect(slotDeadlineMs(T0, 12_000, 30)).toBe(T0 + 7_000);
    expect(slotDeadlineMs(T0, 900_000, 60)).toBe(T0 + 55_000);
  });
});
