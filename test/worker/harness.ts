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
import { CircuitClient } from '../../lambda/circuit/client';
import { DynamoDbCircuitStore } from '../../lambda/circuit/dynamo-store';
import { circuitRules } from '../../lambda/circuit/state';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import type { IdempotencyStore } from '../../lambda/idempotency/store';
import { type OutcomeTopic, s3BodyStore, snsOutcomeTopic } from '../../lambda/outcomes/aws';
import { enqueue } from '../../lambda/producer';
import type { OutcomeEvent } from '../../lambda/producer/outcome';
import type { BucketDefinition } from '../../lambda/sluice';
import {
  type AcquireOptions,
  createBucketTable,
  type Granted,
  SluiceClient,
  SluiceConfig,
  type SluiceLogger,
} from '../../lambda/sluice';
import { VendorClient } from '../../lambda/vendor-api/client';
import { reportUnreadableCircuit } from '../../lambda/worker/circuit';
import { createWorker, type WorkerHandler } from '../../lambda/worker/create-worker';
import type { WorkerDependencies } from '../../lambda/worker/ports';
import { sqsWorkQueues, type WorkQueues } from '../../lambda/worker/queues';
import {
  parseVendorSettings,
  type VendorSettings,
  type VendorSettingsInput,
} from '../../lambda/worker-settings';
import { drainDeadLetters } from '../../local/dlq';
import { createLambdaContext } from '../../local/lambda-context';
import { createOutcomeTopology, type OutcomeTopology, receiveOutcomes } from '../../local/outcomes/topology';
import { toRecord } from '../../local/poller';
import { type SimulatorOptions, startVendorSimulator, type VendorSimulator } from '../../local/simulator';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { RecordingTelemetry } from './recording-telemetry';

const REGION = process.env.AWS_REGION ?? 'us-east-1';

/** The SDK's own log lines are its tests' concern; here they would only bury Jest's report. */
const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface HarnessOptions {
  readonly simulator: SimulatorOptions;
  readonly buckets: readonly BucketDefinition[];
  /** Vendor settings without the base URL (the simulator's is used). */
  readonly vendor: Omit<VendorSettingsInput, 'baseUrl'>;
  /** The key the worker sends. @default the simulator's */
  readonly apiKey?: string;
  /** One clock for the SDK and the worker; `sleep` then advances it instead of waiting. */
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly lambdaTimeoutSeconds?: number;
  /** Where the worker sends dead letters. @default the harness's own DLQ */
  readonly deadLetterQueueUrl?: string;
  /** Reads the vendor API key (a failing secret). @default the `apiKey` */
  readonly readApiKey?: () => Promise<string>;
  /** Reads the key again after a 401, as the secret provider does. @default none (no second read) */
  readonly refreshApiKey?: () => Promise<string>;
  /**
   * The work queue's redrive to the harness's DLQ after this many receives, told to the
   * worker as its `maxReceiveCount`; a record the worker reports failed is then made visible
   * again at once (as if its visibility timeout had passed). @default no redrive
   */
  readonly maxReceiveCount?: number;
  /** Wraps the vendor client's fetch (to hold or count calls). @default the global fetch */
  readonly fetch?: typeof fetch;
  /** Wraps the real work queues (to hold requeued copies until an injected clock reaches their delay). */
  readonly queues?: (queues: WorkQueues) => WorkQueues;
  /** Wraps the real idempotency store (to inject a failure for one id). */
  readonly idempotency?: (store: IdempotencyStore) => IdempotencyStore;
  /**
   * Products the worker knows: the harness then builds the outcome topic, bucket and one
   * filtered subscriber queue per product on fauxqs, and wires the worker to publish to them.
   * @default none (no outcomes)
   */
  readonly products?: readonly string[];
  /** Wraps the real SNS outcome topic (to fail a publish). */
  readonly outcomeTopic?: (topic: OutcomeTopic) => OutcomeTopic;
  /** Wire the vendor circuit in the harness's table, with `vendor.circuit` as its rules. @default off */
  readonly circuit?: boolean;
  /** The real SDK's logger (to read its `acquire.*` events). @default quiet */
  readonly sdkLogger?: SluiceLogger;
  /**
   * The worker role's principal ids (fauxqs gives every message the SenderId `000000000000`).
   * @default none: every sender is trusted
   */
  readonly ownSenderIds?: readonly string[];
  /** Who may send a first delivery naming each product. @default anyone */
  readonly productSenders?: Readonly<Record<string, readonly string[]>>;
  /** Where the harness and the worker reach DynamoDB (a fault proxy in front of it). @default DynamoDB Local */
  readonly dynamodbEndpoint?: string;
  /** Where the worker calls the vendor instead (a misbehaving loopback vendor). @default the simulator */
  readonly vendorUrl?: string;
}

/**
 * The worker on the real local servers: a fresh table on DynamoDB Local, a queue and a DLQ on
 * fauxqs, the vendor simulator, the real SDK and vendor client; only the telemetry records.
 */
export class WorkerHarness {
  readonly telemetry = new RecordingTelemetry();
  /** Every penalize and resync the worker asked of the (real) SDK, in order. */
  readonly sdkCalls: string[] = [];
  /** The SDK's hand-overs the worker asked for: leases passed on, and attempts that passed nothing. */
  readonly handOvers = { granted: 0, refused: 0 };
  /** The outcome topic, bucket and product queues, when `products` was given. */
  outcomes: OutcomeTopology | undefined;
  readonly sns: SNSClient;
  readonly s3: S3Client;
  /** A second worker on the same table, queue and vendor, with its own caches (and circuit view). */
  anotherWorker: () => WorkerHandler = () => this.handler;
  private constructor(
    readonly handler: WorkerHandler,
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
    const simulator = await startVendorSimulator(options.simulator);
    const settings = parseVendorSettings({ ...options.vendor, baseUrl: options.vendorUrl ?? simulator.url });
    const clock = options.clock ?? Date.now;
    const random = options.random ?? Math.random;
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
    const apiKey = options.apiKey ?? simulator.apiKey;
    const vendor = new VendorClient({
      settings,
      apiKey: options.readApiKey ?? (async () => apiKey),
      ...(options.refreshApiKey ? { refreshApiKey: options.refreshApiKey } : {}),
      clock,
      random,
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const harness: WorkerHarness = new WorkerHarness(
      // Bound below, once the telemetry exists.
      async () => ({ batchItemFailures: [] }),
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
    // The real SDK, with its penalize and resync calls written down on the way through.
    const observed = {
      acquire: (request: Readonly<Record<string, number>>, options?: AcquireOptions) =>
        sluice.acquire(request, options),
      penalize: (dimension: string, factor: number, options?: { readonly holdSeconds?: number }) => {
        harness.sdkCalls.push(`penalize ${dimension} ${factor}`);
        return sluice.penalize(dimension, factor, options);
      },
      resync: (dimension: string, remaining: number) => {
        harness.sdkCalls.push(`resync ${dimension} ${remaining}`);
        return sluice.resync(dimension, remaining);
      },
      handOver: async (grant: Granted, options?: AcquireOptions) => {
        const next = await sluice.handOver(grant, options);
        if (next) harness.handOvers.granted += 1;
        else harness.handOvers.refused += 1;
        return next;
      },
    };
    const products = options.products ?? [];
    if (products.length > 0) {
      harness.outcomes = await createOutcomeTopology(
        { sns: harness.sns, sqs, s3: harness.s3 },
        { topic: uniqueName('outcomes'), bucket: uniqueName('outcome-bodies'), products },
      );
    }
    const outcomes = harness.outcomes;
    const circuit = () =>
      new CircuitClient({
        store: new DynamoDbCircuitStore(dynamodb, tableName),
        vendor: settings.name,
        rules: circuitRules(settings.circuit),
        newId: randomUUID,
        clock,
        onUnreadable: (problem) => reportUnreadableCircuit(harness.telemetry, problem),
      });
    harness.anotherWorker = () =>
      createWorker({ ...dependencies, ...(options.circuit ? { circuit: circuit() } : {}) });
    const dependencies: WorkerDependencies = {
      settings,
      sluice: observed,
      vendor,
      queues: (options.queues ?? ((queues) => queues))(
        sqsWorkQueues(sqs, queueUrl, options.deadLetterQueueUrl ?? dlqUrl),
      ),
      idempotency: (options.idempotency ?? ((store) => store))(
        new DynamoDbIdempotencyStore(dynamodb, tableName, randomUUID),
      ),
      telemetry: harness.telemetry,
      lambdaTimeoutSeconds: options.lambdaTimeoutSeconds ?? 30,
      ...(options.maxReceiveCount === undefined ? {} : { maxReceiveCount: options.maxReceiveCount }),
      ...(options.ownSenderIds === undefined ? {} : { ownSenderIds: options.ownSenderIds }),
      ...(options.productSenders === undefined ? {} : { productSenders: options.productSenders }),
      products,
      ...(outcomes
        ? {
            outcomes: {
              topic: (options.outcomeTopic ?? ((topic) => topic))(
                snsOutcomeTopic(harness.sns, outcomes.topicArn),
              ),
              bodies: s3BodyStore(harness.s3, outcomes.bucket),
            },
          }
        : {}),
      clock,
      random,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      ...(options.circuit ? { circuit: circuit() } : {}),
    };
    (harness as { handler: WorkerHandler }).handler = createWorker(dependencies);
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
    const records = Messages.map((message) =>
      toRecord(message, 'arn:aws:sqs:local:000000000000:work', REGION),
    );
    const context = createLambdaContext({
      functionName: 'worker',
      timeoutSeconds: this.options.lambdaTimeoutSeconds ?? 30,
      ...(this.options.clock ? { nowMs: this.options.clock } : {}),
    });
    const response = await handler({ Records: records }, context);
    const failed = new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier));
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

/** A clock the worker's inline sleeps advance: no real waiting, exact waits. */
export function steppedClock(startMs = 1_700_000_000_000): {
  clock: () => number;
  sleep: (ms: number) => Promise<void>;
  advance: (ms: number) => void;
} {
  let nowMs = startMs;
  return {
    clock: () => nowMs,
    sleep: async (ms) => {
      nowMs += ms;
    },
    advance: (ms) => {
      nowMs += ms;
    },
  };
}
