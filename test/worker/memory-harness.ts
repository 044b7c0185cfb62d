import { randomUUID } from 'node:crypto';
import {
  type MessageAttributeValue,
  QueueDoesNotExist,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { MemoryCircuitStore } from '../../lambda/circuit/store';
import { MessageAttr } from '../../lambda/contract';
import { MemoryIdempotencyStore } from '../../lambda/idempotency/store';
import type { OutcomeTopic } from '../../lambda/outcomes/aws';
import type { BodyStore } from '../../lambda/outcomes/claim-check';
import { enqueue } from '../../lambda/producer';
import { type OutcomeEvent, parseOutcomeEvent } from '../../lambda/producer/outcome';
import { MemoryBucketStore, SluiceClient, SluiceConfig } from '../../lambda/sluice';
import { MemoryWorkQueues } from '../../lambda/worker/adapters/memory-queues';
import type { WorkQueues } from '../../lambda/worker/adapters/queues';
import type { WorkerHandler } from '../../lambda/worker/create-worker';
import type { VendorSettings } from '../../lambda/worker-settings';
import { bodyId, type DeadLetter, REDRIVE_REASON } from '../../local/run/dlq';
import type { VendorSimulator } from '../../local/simulator';
import { MemoryQueue } from './memory-queue';
import { VirtualTime } from './virtual-time';
import {
  buildWorker,
  type HarnessOptions,
  invokeWith,
  quietLogger,
  type SteppedClock,
  startVendor,
  WorkerRecords,
} from './worker-wiring';

export { VirtualTime } from './virtual-time';
export { steppedClock } from './worker-wiring';

/** SenderId of every message on fauxqs, kept here so a test reads the same ids in both harnesses. */
export const LOCAL_SENDER_ID = '000000000000';

export interface MemoryHarnessOptions extends Omit<HarnessOptions, 'clock' | 'sleep'> {
  /**
   * The one clock of the worker, the SDK, the vendor client, the simulator and the queues; a sleep
   * ends when it reaches the sleep's end, and `runUntilIdle` moves it to the next delayed copy.
   * A `steppedClock()` moves at each sleep; a `VirtualTime` once nothing else can run (records
   * side by side, waiting for each other's calls). @default a VirtualTime
   */
  readonly time?: SteppedClock;
  /** The SenderId of every message sent (by a producer or by the worker). @default LOCAL_SENDER_ID */
  readonly senderId?: string;
}

/** The DLQ is gone: every dead letter fails with the SQS client's error for a send to a missing queue. */
export function missingDeadLetterQueue(queues: WorkQueues): WorkQueues {
  return {
    requeue: (body, next, delaySeconds) => queues.requeue(body, next, delaySeconds),
    deadLetter: async () => {
      throw new QueueDoesNotExist({ message: 'The specified queue does not exist.', $metadata: {} });
    },
  };
}

/**
 * The memory twin of `WorkerHarness` (harness.ts), for the worker's unit tests: the same worker,
 * the real SDK on its memory bucket store, the memory idempotency and circuit stores, the memory
 * work queues feeding an SQS-like queue in memory, outcomes into per-product lists; the vendor
 * is the simulator on loopback, answering through the real vendor client. One stepped clock runs
 * everything, so nothing waits for real time: a delayed copy is due when the clock reaches it.
 */
export class MemoryWorkerHarness {
  private readonly records = new WorkerRecords();
  readonly telemetry = this.records.telemetry;
  readonly sdkCalls = this.records.sdkCalls;
  readonly handOvers = this.records.handOvers;
  readonly idempotencyStore = new MemoryIdempotencyStore(randomUUID);
  /** The vendor circuit's items, shared by every worker of the harness as the table would be. */
  readonly circuitStore = new MemoryCircuitStore();
  readonly deadLetterQueue: MemoryQueue;
  readonly workQueue: MemoryQueue;
  /** What the worker sent, as it sent it (requeued copies and dead letters). */
  readonly queues: MemoryWorkQueues;
  /** Claim-checked outcome bodies by key, as the outcome bucket would hold them. */
  readonly bodies = new Map<string, Buffer>();
  readonly handler: WorkerHandler = async () => ({ batchItemFailures: [] });
  anotherWorker: () => WorkerHandler = () => this.handler;
  private readonly published = new Map<string, string[]>();
  private constructor(
    readonly time: SteppedClock,
    readonly bucketStore: MemoryBucketStore,
    readonly sluice: SluiceClient,
    readonly simulator: VendorSimulator,
    readonly settings: VendorSettings,
    private readonly options: MemoryHarnessOptions,
  ) {
    this.deadLetterQueue = new MemoryQueue(time.clock);
    this.workQueue = new MemoryQueue(
      time.clock,
      options.maxReceiveCount === undefined
        ? undefined
        : { target: this.deadLetterQueue, maxReceiveCount: options.maxReceiveCount },
    );
    const senderId = options.senderId ?? LOCAL_SENDER_ID;
    this.queues = new MemoryWorkQueues((queue, message) =>
      (queue === 'work' ? this.workQueue : this.deadLetterQueue).send(message, senderId),
    );
    for (const product of options.products ?? []) this.published.set(product, []);
  }

  static async start(options: MemoryHarnessOptions): Promise<MemoryWorkerHarness> {
    const time = options.time ?? new VirtualTime();
    const random = options.random ?? Math.random;
    const fetchFn = options.fetch ?? fetch;
    const { simulator, settings, vendor } = await startVendor(
      {
        ...options,
        simulator: { clock: time.clock, ...options.simulator },
        fetch: time instanceof VirtualTime ? time.track(fetchFn) : fetchFn,
      },
      { clock: time.clock, random, sleep: time.sleep },
    );
    const bucketStore = new MemoryBucketStore();
    const sluice = new SluiceClient({
      settings: SluiceConfig.fromEnv({ tableName: 'memory' }, {}),
      store: bucketStore,
      clock: time.clock,
      random,
      sleep: time.sleep,
      logger: options.sdkLogger ?? quietLogger,
    });
    const harness = new MemoryWorkerHarness(time, bucketStore, sluice, simulator, settings, options);
    await harness.sluice.upsertBuckets(options.buckets);
    const worker = buildWorker(
      { ...options, sleep: time.sleep },
      {
        settings,
        vendor,
        records: harness.records,
        clock: time.clock,
        random,
        stores: {
          sluice: harness.sluice,
          queues: harness.queues,
          idempotency: harness.idempotencyStore,
          circuitStore: () => harness.circuitStore,
          ...((options.products ?? []).length > 0
            ? { outcomes: { topic: harness.outcomeTopic(), bodies: harness.bodyStore() } }
            : {}),
        },
      },
    );
    (harness as { handler: WorkerHandler }).handler = worker.handler;
    harness.anotherWorker = worker.anotherWorker;
    return harness;
  }

  /** The harness's clock now. */
  now(): number {
    return this.time.clock();
  }

  /** Through the producer helper, as a real producer would (its batches land on the memory queue). */
  async enqueue(messages: readonly Record<string, unknown>[]): Promise<void> {
    await enqueue(this.producerClient(), 'memory://work', messages, { clock: this.time.clock });
  }

  /** A raw body with chosen attributes, as a careless producer (or a requeue) would send it. */
  async sendRaw(body: string, attributes: Record<string, MessageAttributeValue> = {}): Promise<void> {
    this.workQueue.send({ MessageBody: body, MessageAttributes: attributes }, this.senderId());
  }

  /** One receive and one invocation, as the event source does; deletes what the handler acknowledged. */
  async pollOnce(batchSize = 5, handler = this.handler): Promise<SQSBatchResponse | undefined> {
    const messages = this.workQueue.receive(batchSize, 180);
    if (messages.length === 0) return undefined;
    const { response, failed } = await invokeWith(handler, messages, {
      ...(this.options.lambdaTimeoutSeconds === undefined
        ? {}
        : { lambdaTimeoutSeconds: this.options.lambdaTimeoutSeconds }),
      clock: this.time.clock,
    });
    for (const message of messages) {
      const receipt = message.ReceiptHandle ?? '';
      if (!failed.has(message.MessageId ?? '')) this.workQueue.delete(receipt);
      else if (this.options.maxReceiveCount !== undefined) this.workQueue.release(receipt);
    }
    return response;
  }

  /**
   * Polls until nothing is visible, delayed or in flight. When only delayed copies are left, the
   * clock moves to the first one due, as waiting for the queue would; a record left in flight
   * (failed, without a redrive) is not idle, and neither is a queue still busy after `maxMs`
   * of the harness's time.
   */
  async runUntilIdle(maxMs = 3_600_000): Promise<void> {
    const giveUpAt = this.now() + maxMs;
    while (this.now() <= giveUpAt) {
      if ((await this.pollOnce()) !== undefined) continue;
      const depth = this.workQueue.depth();
      if (depth.visible + depth.delayed + depth.inFlight === 0) return;
      const next = this.workQueue.nextVisibleAtMs();
      if (depth.delayed === 0 || next === undefined) break;
      this.time.advance(Math.max(0, next - this.now()));
    }
    throw new Error(`the work queue was not idle: ${JSON.stringify(this.workQueue.depth())}`);
  }

  async depth(): Promise<{ visible: number; delayed: number; inFlight: number }> {
    return this.workQueue.depth();
  }

  /** Reads (and deletes) the DLQ as `drainDeadLetters` does (local/run/dlq.ts). */
  async deadLetters(options: { readonly withDetail?: boolean } = {}): Promise<DeadLetter[]> {
    return this.deadLetterQueue.drain().map((message) => {
      const detail = options.withDetail
        ? message.MessageAttributes?.[MessageAttr.deadLetterDetail]?.StringValue
        : undefined;
      return {
        id: bodyId(message.Body) ?? `sqs:${message.MessageId}`,
        reason: message.MessageAttributes?.[MessageAttr.deadLetterReason]?.StringValue ?? REDRIVE_REASON,
        ...(detail ? { detail } : {}),
      };
    });
  }

  /**
   * The outcomes one product's subscriber received, at least `count` of them: every publish has
   * happened when the invocation returned, so fewer is a failure, said with what did arrive.
   */
  async outcomesOf(product: string, count: number): Promise<OutcomeEvent[]> {
    const received = await this.outcomesNowOf(product);
    if (received.length < count) {
      throw new Error(
        `${product} received ${received.length} of ${count} outcomes: ${JSON.stringify(received)}`,
      );
    }
    return received;
  }

  /** What one product's subscriber holds now (and takes it). */
  async outcomesNowOf(product: string): Promise<OutcomeEvent[]> {
    const queue = this.published.get(product);
    if (!queue) throw new Error(`no subscriber queue for product ${product}`);
    return queue.splice(0).map((json) => parseOutcomeEvent(json));
  }

  async stop(): Promise<void> {
    await this.simulator.stop();
  }

  private senderId(): string {
    return this.options.senderId ?? LOCAL_SENDER_ID;
  }

  /** The topic with one subscriber per product, filtered on the product as the CDK's subscriptions are. */
  private outcomeTopic(): OutcomeTopic {
    return {
      publish: async (json, product) => {
        this.published.get(product)?.push(json);
      },
    };
  }

  private bodyStore(): BodyStore {
    return {
      bucket: 'memory-outcome-bodies',
      put: async (key, bytes) => {
        this.bodies.set(key, Buffer.from(bytes));
      },
    };
  }

  /** The producer's SendMessageBatch, answered by the memory work queue (every entry accepted). */
  private producerClient(): SQSClient {
    const send = async (command: unknown): Promise<Partial<SendMessageBatchCommandOutput>> => {
      if (!(command instanceof SendMessageBatchCommand)) {
        throw new Error('the memory work queue takes the producer helper’s SendMessageBatch only');
      }
      const entries = command.input.Entries ?? [];
      const successful = entries.map((entry) => ({
        Id: entry.Id ?? '',
        MessageId: this.workQueue.send(
          {
            MessageBody: entry.MessageBody ?? '',
            MessageAttributes: entry.MessageAttributes ?? {},
            ...(entry.DelaySeconds === undefined ? {} : { DelaySeconds: entry.DelaySeconds }),
            ...(entry.MessageGroupId === undefined ? {} : { MessageGroupId: entry.MessageGroupId }),
          },
          this.senderId(),
        ),
        MD5OfMessageBody: '',
      }));
      return { Successful: successful, Failed: [] };
    };
    return { send } as unknown as SQSClient;
  }
}
