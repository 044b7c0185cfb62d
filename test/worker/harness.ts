import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import {
  ChangeMessageVisibilityBatchCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { DynamoDbCircuitStore } from '../../lambda/circuit/dynamo-store';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import { s3BodyStore, snsOutcomeTopic } from '../../lambda/outcomes/aws';
import { enqueue } from '../../lambda/producer';
import type { OutcomeEvent } from '../../lambda/producer/outcome';
import { createBucketTable, SluiceClient, SluiceConfig } from '../../lambda/sluice';
import { sqsWorkQueues } from '../../lambda/worker/adapters/queues';
import type { WorkerHandler } from '../../lambda/worker/create-worker';
import type { VendorSettings } from '../../lambda/worker-settings';
import { createOutcomeTopology, type OutcomeTopology, receiveOutcomes } from '../../local/outcomes/topology';
import { drainDeadLetters } from '../../local/run/dlq';
import type { VendorSimulator } from '../../local/simulator';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import {
  buildWorker,
  invokeWith,
  quietLogger,
  REGION,
  type HarnessOptions as SharedOptions,
  startVendor,
  WorkerRecords,
} from './worker-wiring';

export { steppedClock } from './worker-wiring';

export interface HarnessOptions extends SharedOptions {
  /** Where the worker sends dead letters. @default the harness's own DLQ */
  readonly deadLetterQueueUrl?: string;
  /** Where the harness and the worker reach DynamoDB (a fault proxy in front of it). @default DynamoDB Local */
  readonly dynamodbEndpoint?: string;
}

/**
 * The worker on the real local servers: a fresh table on DynamoDB Local, a queue and a DLQ on
 * fauxqs, the vendor simulator, the real SDK and vendor client; only the telemetry records.
 * Its memory twin (memory-harness.ts) builds the same worker (worker-wiring.ts) on memory stores.
 */
export class WorkerHarness {
  private readonly records = new WorkerRecords();
  readonly telemetry = this.records.telemetry;
  /** Every penalize and resync the worker asked of the (real) SDK, in order. */
  readonly sdkCalls = this.records.sdkCalls;
  /** The SDK's hand-overs the worker asked for: leases passed on, and attempts that passed nothing. */
  readonly handOvers = this.records.handOvers;
  /** The outcome topic, bucket and product queues, when `products` was given. */
  outcomes: OutcomeTopology | undefined;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  /** A second worker on the same table, queue and vendor, with its own caches (and circuit view). */
  anotherWorker: () => WorkerHandler = () => this.handler;
  readonly handler: WorkerHandler = async () => ({ batchItemFailures: [] });
  private constructor(
    readonly sqs: SQSClient,
    readonly dynamodb: DynamoDBClient,
    readonly sluice: SluiceClient,
    readonly simulator: VendorSimulator,
    readonly settings: VendorSettings,
    readonly tableName: string,
    readonly queueUrl: string,
    readonly dlqUrl: string,
    private readonly options: HarnessOptions,
  ) {
    const { sqs: endpoint } = localEndpoints();
    this.sns = new SNSClient({ endpoint, region: REGION });
    this.s3 = new S3Client({ endpoint, region: REGION, forcePathStyle: true });
  }

  static async start(options: HarnessOptions): Promise<WorkerHarness> {
    const endpoints = localEndpoints();
    const dynamodb = new DynamoDBClient({
      endpoint: options.dynamodbEndpoint ?? endpoints.dynamodb,
      region: REGION,
    });
    const sqs = new SQSClient({ endpoint: endpoints.sqs, region: REGION });
    const tableName = uniqueName('worker');
    await createBucketTable(dynamodb, tableName);
    const dlqUrl = await createQueue(sqs, uniqueName('dlq'));
    const queueUrl = await createQueue(
      sqs,
      uniqueName('work'),
      options.maxReceiveCount === undefined ? {} : await redrivePolicy(sqs, dlqUrl, options.maxReceiveCount),
    );
    const clock = options.clock ?? Date.now;
    const random = options.random ?? Math.random;
    const { simulator, settings, vendor } = await startVendor(options, { clock, random });
    const sluiceSettings = SluiceConfig.fromEnv(
      { tableName, endpointUrl: options.dynamodbEndpoint ?? endpoints.dynamodb, region: REGION },
      {},
    );
    const sluice = new SluiceClient({
      settings: sluiceSettings,
      dynamodb,
      clock,
      random,
      logger: options.sdkLogger ?? quietLogger,
    });
    await sluice.upsertBuckets(options.buckets);
    const harness = new WorkerHarness(
      sqs,
      dynamodb,
      sluice,
      simulator,
      settings,
      tableName,
      queueUrl,
      dlqUrl,
      options,
    );
    const products = options.products ?? [];
    if (products.length > 0) {
      harness.outcomes = await createOutcomeTopology(
        { sns: harness.sns, sqs, s3: harness.s3 },
        { topic: uniqueName('outcomes'), bucket: uniqueName('outcome-bodies'), products },
      );
    }
    const outcomes = harness.outcomes;
    const worker = buildWorker(options, {
      settings,
      vendor,
      records: harness.records,
      clock,
      random,
      stores: {
        sluice,
        queues: sqsWorkQueues(sqs, queueUrl, options.deadLetterQueueUrl ?? dlqUrl),
        idempotency: new DynamoDbIdempotencyStore(dynamodb, tableName, randomUUID),
        circuitStore: () => new DynamoDbCircuitStore(dynamodb, tableName),
        ...(outcomes
          ? {
              outcomes: {
                topic: snsOutcomeTopic(harness.sns, outcomes.topicArn),
                bodies: s3BodyStore(harness.s3, outcomes.bucket),
              },
            }
          : {}),
      },
    });
    (harness as { handler: WorkerHandler }).handler = worker.handler;
    harness.anotherWorker = worker.anotherWorker;
    return harness;
  }

  /** Through the producer helper, as a real producer would. */
  async enqueue(messages: readonly Record<string, unknown>[]): Promise<void> {
    await enqueue(this.sqs, this.queueUrl, messages);
  }

  /** A raw body with chosen attributes, as a careless producer (or a requeue) would send it. */
  async sendRaw(body: string, attributes: Record<string, MessageAttributeValue> = {}): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: body, MessageAttributes: attributes }),
    );
  }

  /** One receive and one invocation, as the event source does; deletes what the handler acknowledged. */
  async pollOnce(batchSize = 5, handler = this.handler): Promise<SQSBatchResponse | undefined> {
    const { Messages = [] } = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queueUrl,
        MaxNumberOfMessages: batchSize,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 180,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return undefined;
    const { response, failed } = await invokeWith(handler, Messages, {
      ...(this.options.lambdaTimeoutSeconds === undefined
        ? {}
        : { lambdaTimeoutSeconds: this.options.lambdaTimeoutSeconds }),
      ...(this.options.clock ? { clock: this.options.clock } : {}),
    });
    const done = Messages.filter((message) => !failed.has(message.MessageId ?? ''));
    const again = Messages.filter((message) => failed.has(message.MessageId ?? ''));
    if (this.options.maxReceiveCount !== undefined && again.length > 0) {
      await this.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: again.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
    }
    if (done.length > 0) {
      await this.sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: done.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
          })),
        }),
      );
    }
    return response;
  }

  /** Polls until nothing is visible, delayed or in flight, or `maxMs` of real time passed. */
  async runUntilIdle(maxMs = 30_000): Promise<void> {
    const giveUpAt = Date.now() + maxMs;
    while (Date.now() < giveUpAt) {
      if ((await this.pollOnce()) !== undefined) continue;
      const depth = await this.depth();
      if (depth.visible + depth.delayed + depth.inFlight === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`the work queue was not idle after ${maxMs} ms: ${JSON.stringify(await this.depth())}`);
  }

  async depth(): Promise<{ visible: number; delayed: number; inFlight: number }> {
    const { Attributes = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.queueUrl, AttributeNames: ['All'] }),
    );
    return {
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  }

  deadLetters() {
    return drainDeadLetters(this.sqs, this.dlqUrl);
  }

  /**
   * The outcomes one product's queue received, read until `count` arrived (a state, not a
   * moment); fails after `maxMs` of real time with what did arrive.
   */
  async outcomesOf(product: string, count: number, maxMs = 15_000): Promise<OutcomeEvent[]> {
    const queueUrl = this.outcomes?.queues[product];
    if (!queueUrl) throw new Error(`no subscriber queue for product ${product}`);
    const received: OutcomeEvent[] = [];
    const giveUpAt = Date.now() + maxMs;
    while (received.length < count) {
      if (Date.now() > giveUpAt) {
        throw new Error(
          `${product} received ${received.length} of ${count} outcomes: ${JSON.stringify(received)}`,
        );
      }
      const batch = await receiveOutcomes(this.sqs, queueUrl);
      received.push(...batch);
      if (batch.length === 0) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return received;
  }

  /** What one product's queue holds now, read until a receive comes back empty. */
  async outcomesNowOf(product: string): Promise<OutcomeEvent[]> {
    const queueUrl = this.outcomes?.queues[product];
    if (!queueUrl) throw new Error(`no subscriber queue for product ${product}`);
    const received: OutcomeEvent[] = [];
    for (;;) {
      const batch = await receiveOutcomes(this.sqs, queueUrl);
      if (batch.length === 0) return received;
      received.push(...batch);
    }
  }

  async stop(): Promise<void> {
    this.sns.destroy();
    this.s3.destroy();
    await this.simulator.stop();
    this.sqs.destroy();
    this.dynamodb.destroy();
  }
}

async function createQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string> = {},
): Promise<string> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`fauxqs created queue ${name} without a URL`);
  return QueueUrl;
}

/** The RedrivePolicy attribute that moves a message to `dlqUrl` after `maxReceiveCount` receives. */
async function redrivePolicy(
  sqs: SQSClient,
  dlqUrl: string,
  maxReceiveCount: number,
): Promise<Record<string, string>> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }),
  );
  return { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes.QueueArn, maxReceiveCount }) };
}
