import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DeadLetterReason, idempotencyId, Metric } from '../../lambda/contract';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import { snsOutcomeTopic } from '../../lambda/outcomes/aws';
import { completedOutcome } from '../../lambda/outcomes/build';
import { OutcomePublisher } from '../../lambda/outcomes/publisher';
import { createDeadLetterRelay } from '../../lambda/relay/dead-letter-relay';
import { createBucketTable } from '../../lambda/sluice';
import { sqsWorkQueues } from '../../lambda/worker/adapters/queues';
import { toRecord } from '../../local/event-source/poller';
import { createOutcomeTopology, type OutcomeTopology, receiveOutcomes } from '../../local/outcomes/topology';
import { drainDeadLetters } from '../../local/run/dlq';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { RecordingTelemetry } from './recording-telemetry';

/**
 * The case the worker never sees: SQS's redrive moves a message after maxReceiveCount receives
 * (here: receives nobody answered) to the relay queue; the relay moves it to the DLQ with its
 * reason and publishes the product's dead_lettered outcome. All on fauxqs and DynamoDB Local,
 * with the redrive done by fauxqs itself. Needs the servers: the redrive is the queue's, not the
 * worker's, so only a real queue can make it.
 */

const REGION = 'us-east-1';
const MAX_RECEIVE_COUNT = 2;

let sqs: SQSClient;
let sns: SNSClient;
let s3: S3Client;
let dynamodb: DynamoDBClient;
let tableName: string;
let workUrl: string;
let relayUrl: string;
let dlqUrl: string;
let topology: OutcomeTopology;
let telemetry: RecordingTelemetry;
let relay: ReturnType<typeof createDeadLetterRelay>;
let store: DynamoDbIdempotencyStore;

beforeEach(async () => {
  const endpoints = localEndpoints();
  sqs = new SQSClient({ endpoint: endpoints.sqs, region: REGION });
  sns = new SNSClient({ endpoint: endpoints.sqs, region: REGION });
  s3 = new S3Client({ endpoint: endpoints.sqs, region: REGION, forcePathStyle: true });
  dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
  tableName = uniqueName('relay');
  await createBucketTable(dynamodb, tableName);
  dlqUrl = await createQueue(uniqueName('dlq'));
  relayUrl = await createQueue(uniqueName('relay'));
  workUrl = await createQueue(uniqueName('work'), {
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: await queueArn(relayUrl),
      maxReceiveCount: MAX_RECEIVE_COUNT,
    }),
  });
  topology = await createOutcomeTopology(
    { sns, sqs, s3 },
    { topic: uniqueName('outcomes'), bucket: uniqueName('bodies'), products: ['checkout', 'support'] },
  );
  telemetry = new RecordingTelemetry();
  store = new DynamoDbIdempotencyStore(dynamodb, tableName, randomUUID);
  relay = createDeadLetterRelay({
    queues: sqsWorkQueues(sqs, dlqUrl, dlqUrl),
    outcomes: new OutcomePublisher(store, telemetry, { topic: snsOutcomeTopic(sns, topology.topicArn) }),
    products: ['checkout', 'support'],
    telemetry,
    maxReceiveCount: MAX_RECEIVE_COUNT,
  });
});

afterEach(() => {
  for (const client of [sqs, sns, s3, dynamodb]) client.destroy();
});

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`no URL for ${name}`);
  return QueueUrl;
}

async function queueArn(url: string): Promise<string> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return Attributes.QueueArn ?? '';
}

/** Receives without ever deleting (as throttled or killed invocations do) until SQS's redrive moved the message. */
async function exhaustReceives(): Promise<Message[]> {
  for (let round = 0; round < 50; round += 1) {
    await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: workUrl, VisibilityTimeout: 0, WaitTimeSeconds: 0 }),
    );
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: relayUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length > 0) return Messages;
  }
  throw new Error('SQS never redrove the message to the relay queue');
}

async function relayBatch(messages: Message[]) {
  return relay({
    Records: messages.map((message) => toRecord(message, 'arn:aws:sqs:local:0:relay', REGION)),
  });
}

async function outcomesNow(product: string) {
  const found = [];
  for (;;) {
    const batch = await receiveOutcomes(sqs, topology.queues[product] ?? '');
    if (batch.length === 0) return found;
    found.push(...batch);
  }
}

const body = (id: string, product: string) =>
  JSON.stringify({ id, product, operation: 'createVisit', params: { locationId: 'loc-1' } });

describe('the dead-letter relay (SQS redrive after maxReceiveCount)', () => {
  it('moves a redriven message to the DLQ with its reason, and publishes its dead_lettered outcome once', async () => {
    await sqs.send(new SendMessageCommand({ QueueUrl: workUrl, MessageBody: body('lost-1', 'checkout') }));
    const redriven = await exhaustReceives();
    expect(await relayBatch(redriven)).toEqual({ batchItemFailures: [] });
    expect(await drainDeadLetters(sqs, dlqUrl)).toEqual([
      { id: 'lost-1', reason: DeadLetterReason.redriveMaxReceiveCount },
    ]);
    expect(await outcomesNow('checkout')).toEqual([
      expect.objectContaining({
        outcome: 'dead_lettered',
        id: 'lost-1',
        product: 'checkout',
        operation: 'createVisit',
        reason: 'redrive_max_receive_count',
        attempts: 1,
      }),
    ]);
    expect(await outcomesNow('support')).toEqual([]);
    // Delivered again (the relay's own at-least-once): the DLQ gets its copy, the product nothing new.
    await relayBatch(redriven);
    expect(await drainDeadLetters(sqs, dlqUrl)).toHaveLength(1);
    expect(await outcomesNow('checkout')).toEqual([]);
    expect(telemetry.countOf(`${Metric.deadLettered}[Reason=redrive_max_receive_count]`)).toBe(2);
  });

  it('publishes the stored completed outcome of an id whose publish kept failing until SQS gave up', async () => {
    const completed = completedOutcome({
      routing: { id: 'done-1', product: 'support', operation: 'createVisit' },
      attempts: 1,
      endedAtMs: 1_700_000_000_000,
      answer: {
        class: 'success',
        status: 201,
        body: { id: 'visit-9' },
        headers: {},
        rateLimit: {},
        latencyMs: 12,
        attempts: 1,
        cached: false,
        outcomeUnknown: false,
      },
    });
    // The worker keyed its record under the product (idempotencyId), as the relay reads it.
    await store.complete(idempotencyId('support', 'done-1'), 1_700_000_000_000, JSON.stringify(completed));
    await sqs.send(new SendMessageCommand({ QueueUrl: workUrl, MessageBody: body('done-1', 'support') }));
    await relayBatch(await exhaustReceives());
    expect(await outcomesNow('support')).toEqual([completed]);
  });

  it('reports a record it could not publish, so the relay queue delivers it again', async () => {
    const failing = createDeadLetterRelay({
      queues: sqsWorkQueues(sqs, dlqUrl, dlqUrl),
      outcomes: new OutcomePublisher(store, telemetry, {
        topic: { publish: () => Promise.reject(new Error('injected: SNS is unavailable')) },
      }),
      products: ['checkout'],
      telemetry,
      maxReceiveCount: MAX_RECEIVE_COUNT,
    });
    await sqs.send(new SendMessageCommand({ QueueUrl: workUrl, MessageBody: body('lost-2', 'checkout') }));
    const redriven = await exhaustReceives();
    const response = await failing({
      Records: redriven.map((message) => toRecord(message, 'arn:aws:sqs:local:0:relay', REGION)),
    });
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual([
      redriven[0]?.MessageId,
    ]);
    expect(telemetry.countOf(Metric.outcomePublishFailures)).toBe(1);
    // The next delivery, with the topic back, publishes the stored event.
    await relayBatch(redriven);
    expect(await outcomesNow('checkout')).toEqual([
      expect.objectContaining({ id: 'lost-2', reason: 'redrive_max_receive_count' }),
    ]);
  });
});
