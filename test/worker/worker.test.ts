import { ResourceNotFoundException } from '@aws-sdk/client-secrets-manager';
import { type Message, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DeadLetterReason, MessageAttr, Metric, MetricDimension } from '../../lambda/contract';
import { SecretApiKeyProvider } from '../../lambda/vendor-api/secret';
import { ownDeadLetterReceive } from '../../lambda/worker/pipeline/record-failure';
import { localEndpoints } from '../setup/local-endpoints';
import { steppedClock, WorkerHarness } from './harness';

/**
 * The worker's messages through a real queue: fauxqs, beside DynamoDB Local and the vendor
 * simulator. Each test here proves what only SQS can: message attributes that survive a send and
 * a receive (the attempt and first-seen time of a requeued copy, the DLQ reason), a DelaySeconds
 * that really hides the copy, the SenderId SQS itself sets, the receive count and RedrivePolicy
 * SQS keeps, and the SQS client's error for a missing queue; and one backlog end to end in real
 * time, the vendor serving one call at a time. The worker's logic behind each one runs on memory
 * ports in the unit tests (worker, failures, failure-reason, sender-attributes, profiles
 * `.unit.test.ts`).
 */

/** The booking vendor: 5 requests/s, 1 write/s per location. */
const waitwhileVendor = {
  name: 'waitwhile',
  allowedPaths: ['/locations'],
  operations: {
    createVisit: {
      method: 'POST' as const,
      path: '/locations/{locationId}/visits',
      dimensions: { 'waitwhile#rps': 1, 'waitwhile#location-writes#{locationId}': 1 },
    },
  },
  policy: { maxAttempts: 3, requeueJitterSeconds: 0, inlineRetryThresholdSeconds: 0.5 },
};

const waitwhileBuckets = [
  { dimension: 'waitwhile#rps', limitType: 'requests' as const, capacity: 5, windowSeconds: 1 },
  { dimension: 'waitwhile#location-writes#*', limitType: 'requests' as const, capacity: 1, windowSeconds: 2 },
];

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

const sweeppeaRps = {
  buckets: [{ dimension: 'sweeppea#rps', limitType: 'requests' as const, capacity: 50, windowSeconds: 1 }],
  vendor: {
    name: 'sweeppea',
    operations: {
      createContact: { method: 'POST' as const, path: '/v1/contacts', dimensions: { 'sweeppea#rps': 1 } },
    },
    policy: { requeueJitterSeconds: 0, maxVendorRetries: 0, maxAttempts: 3, maxAgeSeconds: 3_600 },
  },
};

// A fresh message claiming it was first seen two hours ago (maxAgeSeconds is one hour) and is
// on its second attempt. Read as the worker's own copy, it is too old on arrival.
const forged = {
  [MessageAttr.attempt]: { DataType: 'Number', StringValue: '2' },
  [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(Date.now() - 7_200_000) },
};
const body = JSON.stringify({ id: 'c-1', operation: 'createContact', body: { email: 'a@example.com' } });

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

async function deadLettersWithAttributes(harness: WorkerHarness): Promise<DeadLetterOnQueue[]> {
  const { Messages = [] } = await harness.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: harness.dlqUrl,
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages.map((message) => ({
    body: message.Body ?? '',
    reason: message.MessageAttributes?.[MessageAttr.deadLetterReason]?.StringValue,
    detail: message.MessageAttributes?.[MessageAttr.deadLetterDetail]?.StringValue,
  }));
}

describe('requeued copies and dead letters on fauxqs', () => {
  let harness: WorkerHarness;

  beforeEach(async () => {
    harness = await WorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: waitwhileBuckets,
      vendor: waitwhileVendor,
    });
  });

  afterEach(() => harness.stop());

  it('dead-letters an invalid message at once with its reason, without calling the vendor', async () => {
    await harness.sendRaw(JSON.stringify({ id: 'bad-1', operation: 42 }));
    await harness.sendRaw('not json at all');
    await harness.runUntilIdle();
    const deadLetters = await harness.deadLetters();
    expect(deadLetters).toEqual([
      { id: 'bad-1', reason: 'invalid_message' },
      { id: expect.stringMatching(/^sqs:/), reason: 'invalid_message' },
    ]);
    expect(harness.simulator.stats().calls).toBe(0);
    expect(harness.telemetry.fieldsOf('message.invalid').map((fields) => fields.detail)).toEqual([
      'operation: Invalid input: expected string, received number (got 42)',
      expect.stringMatching(/^\(message\): body is not JSON \(/),
    ]);
  });

  it('requeues a capacity wait with the next attempt and the first-seen time, then completes it', async () => {
    // The SDK and the worker run on a stepped clock, so the second write to loc-9 waits exactly
    // 1.5 s (> the 0.5 s inline threshold) however long the machine takes between invocations.
    await harness.stop();
    const time = steppedClock(Date.now());
    harness = await WorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: waitwhileBuckets,
      vendor: waitwhileVendor,
      clock: time.clock,
      sleep: time.sleep,
    });
    // One invocation each: in one batch the pool would run both at once, and either could win loc-9.
    await harness.enqueue([{ id: 'first', operation: 'createVisit', params: { locationId: 'loc-9' } }]);
    await harness.pollOnce(10);
    time.advance(500);
    await harness.enqueue([{ id: 'second', operation: 'createVisit', params: { locationId: 'loc-9' } }]);
    await harness.pollOnce(10);
    const [requeued] = harness.telemetry.fieldsOf('message.requeued');
    expect(requeued).toMatchObject({
      attempt: 1,
      delay_seconds: 2,
      why: expect.stringMatching(/^capacity: waitwhile#location-writes#loc-9 needs /),
    });
    // The copy becomes visible once its delay is over: wait for that state, not for a moment.
    let copy: Message | undefined;
    for (let receives = 0; copy === undefined && receives < 10; receives++) {
      const { Messages = [] } = await harness.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: harness.queueUrl,
          MessageAttributeNames: ['All'],
          VisibilityTimeout: 0,
          WaitTimeSeconds: 2,
        }),
      );
      copy = Messages[0];
    }
    const attributes = copy?.MessageAttributes ?? {};
    expect(JSON.parse(copy?.Body ?? '{}').id).toBe('second');
    expect(attributes[MessageAttr.attempt]?.StringValue).toBe('1');
    // The first-seen time travels with the copy: it predates the copy's 2 s delay.
    const firstSeen = Number(attributes[MessageAttr.firstSeenAtMs]?.StringValue);
    expect(Date.now() - firstSeen).toBeGreaterThanOrEqual(2_000);
    time.advance(2_000);
    await harness.runUntilIdle();
    expect(harness.telemetry.countOf(Metric.completed)).toBe(2);
    expect(harness.simulator.stats().refusals).toBe(0);
  });
});

describe('a send to a missing DLQ', () => {
  it('reports only the record whose DLQ send failed in batchItemFailures; the others in the batch still end', async () => {
    const harness = await WorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      deadLetterQueueUrl: `${localEndpoints().sqs}/000000000000/no-such-dlq`,
    });
    try {
      await harness.sendRaw('{"id":"poison"}');
      await harness.enqueue([{ id: 'fine', operation: 'createContact', body: { email: 'a@example.com' } }]);
      const response = await harness.pollOnce(10);
      expect(response?.batchItemFailures).toHaveLength(1);
      expect(harness.telemetry.fieldsOf('message.failed')).toEqual([
        {
          message_id: response?.batchItemFailures[0]?.itemIdentifier,
          error: expect.any(String),
          error_name: expect.any(String),
          receive_count: 1,
        },
      ]);
      expect(harness.telemetry.countOf(Metric.messageFailures)).toBe(1);
      expect(harness.telemetry.countOf(Metric.completed)).toBe(1);
      expect(harness.telemetry.flushes).toBe(1);
    } finally {
      await harness.stop();
    }
  });
});

describe('the receive count and redrive of a real queue', () => {
  it('counts each failure and, at the receive before the last, dead-letters the message with its reason', async () => {
    const harness = await WorkerHarness.start({
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
      const dead = await deadLettersWithAttributes(harness);
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
    const harness = await WorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppea,
      readApiKey: missingSecret(),
      maxReceiveCount: MAX_RECEIVE_COUNT,
      // The worker's DLQ does not exist: its sends fail; the queue's redrive still targets the real one.
      deadLetterQueueUrl: `${localEndpoints().sqs}/000000000000/no-such-dlq`,
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
      expect(await deadLettersWithAttributes(harness)).toEqual([
        { body: JSON.stringify(message), reason: undefined, detail: undefined },
      ]);
    } finally {
      await harness.stop();
    }
  });
});

describe('the SenderId SQS sets (fauxqs: 000000000000 for every message)', () => {
  it('are ignored on a message the worker did not send: it runs as a first attempt', async () => {
    const harness = await WorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppeaRps,
      ownSenderIds: ['AROAWORKERROLE'],
    });
    try {
      await harness.sendRaw(body, forged);
      await harness.pollOnce();
      expect(harness.telemetry.fieldsOf('message.completed')).toEqual([
        expect.objectContaining({ id: 'c-1', attempt: 0 }),
      ]);
      expect(harness.simulator.stats().completions).toBe(1);
    } finally {
      await harness.stop();
    }
  });

  it("count on the worker's own copy (its SenderId): two hours old, it is dead-lettered on arrival", async () => {
    const harness = await WorkerHarness.start({
      simulator: { profile: 'sweeppea', latencyMs: 1 },
      ...sweeppeaRps,
      ownSenderIds: ['000000000000'],
    });
    try {
      await harness.sendRaw(body, forged);
      await harness.pollOnce();
      expect((await harness.deadLetters()).map((letter) => letter.reason)).toEqual(['max_age']);
      expect(harness.simulator.stats().calls).toBe(0);
    } finally {
      await harness.stop();
    }
  });
});

describe('a backlog end to end in real time', () => {
  it('50 messages at the one-call-at-a-time vendor all complete exactly once, with refusals under 5% of calls', async () => {
    // The sweeppea case of profiles.unit.test.ts, on the real servers and the real clock: the
    // queue's own timing, the table's and the vendor's, with the buckets at the vendor's limits.
    const harness = await WorkerHarness.start({
      simulator: {
        profile: 'sweeppea',
        limits: { concurrentPerEndpoint: 1, requestsPerMinute: 600 },
        latencyMs: 2,
      },
      buckets: [
        { dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 },
        { dimension: 'sweeppea#rpm', limitType: 'requests', capacity: 600, windowSeconds: 60 },
      ],
      vendor: {
        name: 'sweeppea',
        operations: {
          createContact: {
            method: 'POST',
            path: '/v1/contacts',
            dimensions: { 'sweeppea#concurrent': 1, 'sweeppea#rpm': 1 },
          },
        },
        policy: { requeueJitterSeconds: 0 },
      },
    });
    try {
      const ids = Array.from({ length: 50 }, (_, index) => `contact-${index}`);
      await harness.enqueue(
        ids.map((id) => ({ id, operation: 'createContact', body: { email: `${id}@example.com` } })),
      );
      await harness.runUntilIdle(45_000);
      const stats = harness.simulator.stats();
      expect(await harness.deadLetters()).toEqual([]);
      expect(stats.completions).toBe(50);
      expect(stats.duplicateCompletions).toBe(0);
      expect(Object.keys(stats.byIdempotencyKey).sort()).toEqual([...ids].sort());
      expect(Object.values(stats.byIdempotencyKey).every((count) => count === 1)).toBe(true);
      expect(harness.telemetry.countOf(Metric.completed)).toBe(50);
      expect(stats.refusals / stats.calls).toBeLessThan(0.05);
    } finally {
      await harness.stop();
    }
  });
});
