import { DeadLetterReason } from '../../lambda/contract';
import type { VendorCallResult } from '../../lambda/vendor-api/client';
import { circuitSignal } from '../../lambda/worker/pipeline/circuit-guard';
import { type DecisionContext, decideOnVendorAnswer } from '../../lambda/worker/policy/decision';
import { PolicySchema } from '../../lambda/worker-settings';

/**
 * A redirect the client did not follow: the message is dead-lettered with the Location in its
 * detail, and the vendor circuit hears nothing of it (a redirect target that fails must not
 * open the circuit for every product, nor a redirect close it).
 */

const answer = (status: number, error?: string): VendorCallResult => ({
  class: 'rejected',
  status,
  rateLimit: {},
  latencyMs: 3,
  attempts: 1,
  cached: false,
  outcomeUnknown: false,
  ...(error === undefined ? {} : { error }),
});

const context: DecisionContext = {
  deadlineMs: 60_000,
  inlineUsed: false,
  attempt: 0,
  firstSeenAtMs: 0,
  nowMs: 1_000,
  inlineThresholdSeconds: 5,
  policy: PolicySchema.parse({}),
  random: () => 0.5,
};

describe('a redirect answer', () => {
  it.each([301, 302, 303, 307, 308])('HTTP %i gives the circuit no signal', (status) => {
    expect(
      circuitSignal(answer(status, 'redirect not followed (Location "https://elsewhere.example/x")')),
    ).toBe(undefined);
  });

  it('still counts every other answer as before', () => {
    expect([circuitSignal(answer(400)), circuitSignal({ ...answer(502), class: 'transient' })]).toEqual([
      'up',
      'failure',
    ]);
  });

  it('is dead-lettered as vendor_rejected with the Location in the detail', () => {
    const location = 'redirect not followed (Location "https://elsewhere.example/x")';
    expect(
      decideOnVendorAnswer(
        {
          class: 'rejected',
          status: 307,
          outcomeUnknown: false,
          idempotent: false,
          busyCount: 0,
          error: location,
        },
        context,
      ),
    ).toEqual({
      kind: 'dead_letter',
      reason: DeadLetterReason.vendorRejected,
      detail: `vendor answered HTTP 307: ${location}`,
    });
  });
});
