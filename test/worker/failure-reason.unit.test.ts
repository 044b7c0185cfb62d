import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { DeadLetterReason, MessageAttr, Metric, MetricDimension } from '../../lambda/contract';
import { SecretApiKeyProvider } from '../../lambda/vendor-api/secret';
import { ownDeadLetterReceive } from '../../lambda/worker/pipeline/record-failure';
import { MemoryWorkerHarness, missingDeadLetterQueue } from './memory-harness';

/**
 * A message the worker fails on, on every receive: the worker on memory ports and a memory work
 * queue that, like an SQS RedrivePolicy, moves a message to the DLQ after `maxReceiveCount`
 * receives. The one injected fault is the missing vendor secret: its "not found" answer stands
 * in front of the real key provider. The same on fauxqs's redrive: worker.test.ts.
 */

const MAX_RECEIVE_COUNT = 3;

const sweeppea = {
  buckets: [{ dimension: 'sweeppea#concurrent', limitType: 'concurrent' as const, capacity: 1 }],
  vendor: {
    name: 'sweeppea',
    operations: {
      createContact: {
        method: 'POST' as const,
        path: '/v1/contacts',
        dimensions: { 'sweeppea#concurrent': 1 },
      },
    },
    policy: { requeueJitterSeconds: 0, maxVendorRetries: 0 },
  },
};

/** The real provider over a Secrets Manager that answers "not found", as it does for a deleted secret. */
function missingSecret(): () => Promise<string> {
  const provider = new SecretApiKeyProvider({
    secretsManager: {
      send: async () => {
        throw new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret.",
          $metadata: { httpStatusCode: 400 },
        });
      },
    },
    secretId: 'sluice/sweeppea/api-key',
  });
  return () => provider.get();
}

interface DeadLetterOnQueue {
  readonly body: string;
  readonly reason?: string;
  readonly detail?: string;
}

function deadLettersWithAttributes(harness: MemoryWorkerHarness): DeadLetterOnQueue[] {
  return harness.deadLetterQueue.drain().map((message) => ({
    body: message.Body ?? '',
    reason: message.MessageAttributes?.[MessageAttr.deadLetterReason]?.StringValue,
    detail: message.MessageAttributes?.[MessageAttr.deadLetterDetail]?.StringValue,
  }));
}

describe('the receive at which the worker dead-letters a failing message itself', () => {
  it('is the one before the last SQS allows, or the first when SQS allows only one', () => {
    expect([1, 2, 3, 10, 1000].map(ownDeadLetterReceive)).toEqual([1, 1, 2, 9, 999]);
  });
});

describe('a message that fails inside the worker', () => {
  it('counts each failure and, at the receive before the last, dead-letters the message with its reason', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      readApiKey: missingSecret(),
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
    try {
      const message = { id: 'no-key', operation: 'createContact', body: { email: 'k@example.com' } };
      await harness.enqueue([message]);
      await harness.runUntilIdle();

      const failures = harness.telemetry.fieldsOf('message.failed');
      expect(failures.map((fields) => [fields.receive_count, fields.error_name])).toEqual([
        [1, 'ResourceNotFoundException'],
        [ownDeadLetterReceive(MAX_RECEIVE_COUNT), 'ResourceNotFoundException'],
      ]);
      expect(harness.telemetry.countOf(Metric.messageFailures)).toBe(2);
      expect(
        harness.telemetry.countOf(
          `${Metric.deadLettered}[${MetricDimension.reason}=${DeadLetterReason.workerError}]`,
        ),
      ).toBe(1);
      // One dead letter, by the worker, not a bare redrive: the body as sent, the reason attached.
      const dead = deadLettersWithAttributes(harness);
      expect(dead).toEqual([
        {
          body: JSON.stringify(message),
          reason: DeadLetterReason.workerError,
          detail: `ResourceNotFoundException: Secrets Manager can't find the specified secret. (receive 2 of at most ${MAX_RECEIVE_COUNT})`,
        },
      ]);
      // The slot each failed delivery took was given back; the vendor was never called.
      expect((await harness.sluice.snapshot('sweeppea#concurrent')).leases).toBe(0);
      expect(harness.simulator.stats().completions).toBe(0);
    } finally {
      await harness.stop();
    }
  });

  it('when its own DLQ send fails too, reports the record each time and SQS redrive moves it, without a reason', async () => {
    const harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      readApiKey: missingSecret(),
      maxReceiveCount: MAX_RECEIVE_COUNT,
      // The worker's DLQ sends fail as to a missing queue; the queue's redrive still moves the message.
      queues: missingDeadLetterQueue,
    });
    try {
      const message = { id: 'no-key-no-dlq', operation: 'createContact', body: { email: 'n@example.com' } };
      await harness.enqueue([message]);
      await harness.runUntilIdle();

      expect(harness.telemetry.countOf(Metric.messageFailures)).toBe(MAX_RECEIVE_COUNT);
      expect(
        harness.telemetry
          .fieldsOf('message.failed')
          .filter((fields) => fields.step === 'dead_letter')
          .map((fields) => fields.message_id),
      ).toHaveLength(MAX_RECEIVE_COUNT - ownDeadLetterReceive(MAX_RECEIVE_COUNT) + 1);
      expect(deadLettersWithAttributes(harness)).toEqual([
        { body: JSON.stringify(message), reason: undefined, detail: undefined },
      ]);
    } finally {
      await harness.stop();
    }
  });
});
