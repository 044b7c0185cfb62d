import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { FairWindow, fairWindowOptions } from './fair-window';
import { createLambdaContext } from './lambda-context';

/** What an SQS-triggered handler looks like to the event source (the worker's `handler`). */
export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

/**
 * How one invocation ended, as the event source saw it:
 * - `ok`: every message is deleted;
 * - `partial`: the handler reported `batchItemFailures`; only those stay on the queue;
 * - `error`: the handler threw or answered a malformed failure list; the whole batch stays;
 * - `timeout`: the handler ran past the function timeout; Lambda kills it, nothing is deleted;
 * - `abandoned`: the environment died mid-flight (chaos); nothing is deleted, no `finally` ran.
 * Messages that stay reappear after the queue's visibility timeout, with a higher receive count.
 */
export type InvocationOutcome = 'ok' | 'partial' | 'error' | 'timeout' | 'abandoned';

export interface Invocation {
  readonly messageIds: readonly string[];
  /** Ids left on the queue (all of them unless `ok` or `partial`). */
  readonly failedIds: readonly string[];
  readonly outcome: InvocationOutcome;
  readonly error?: string;
}

export interface EventSourcePollerOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly handler: SqsHandler;
  /** Messages per invocation; over 10 they are gathered by several receives within the window. */
  readonly batchSize: number;
  /** How long to keep gathering a batch over 10 messages (the event source's maxBatchingWindow). @default 0 */
  readonly maxBatchingWindowSeconds?: number;
  readonly functionName: string;
  /** The configured Lambda timeout; the context counts down from it. */
  readonly timeoutSeconds: number;
  /** Long-poll wait; Lambda uses 20 s, shorter keeps Ctrl-C snappy. @default 1 */
  readonly waitTimeSeconds?: number;
  readonly region?: string;
  /**
   * Serve message groups fairly, as SQS fair queues do (fauxqs keeps one list in send order):
   * hold up to `lookaheadMessages` received messages and hand the worker a batch taken
   * round-robin across their groups. The queue's visibility timeout must be at least twice the
   * function timeout. @default undefined (the queue's own order)
   */
  readonly fairQueue?: { readonly lookaheadMessages: number; readonly visibilityTimeoutSeconds: number };
  readonly onInvocation?: (invocation: Invocation) => void;
  readonly onError?: (error: unknown) => void;
}

/**
 * Emulates the Lambda event source mapping for SQS with reserved concurrency 1: a batch of up
 * to `batchSize` messages (several receives within the batching window when over 10; the queue's own visibility timeout applies),
 * one invocation at a time, partial batch responses, and deletes only what succeeded.
 * Redrive to the DLQ is the queue's own (maxReceiveCount). Throttled extra pollers, which
 * AWS has, are not emulated: with one poller they never happen.
 */
export class EventSourcePoller {
  private running = false;
  private loop: Promise<void> | undefined;
  private current: { ids: readonly string[]; abandon: (reason: string) => void } | undefined;
  private readonly window: FairWindow | undefined;

  constructor(private readonly options: EventSourcePollerOptions) {
    this.window = options.fairQueue
      ? new FairWindow(fairWindowOptions(options.fairQueue, options.timeoutSeconds))
      : undefined;
  }

  /** Messages inside the running invocation. */
  get inFlight(): number {
    return this.current?.ids.length ?? 0;
  }

  /** One receive and, if anything arrived, one invocation. */
  async pollOnce(): Promise<Invocation | undefined> {
    const { sqs, queueUrl } = this.options;
    const messages = await this.gather();
    if (messages.length === 0) return undefined;
    const invocation = await this.invoke(messages);
    const leftIds = new Set(invocation.failedIds);
    const done = messages.filter((message) => !leftIds.has(message.MessageId ?? ''));
    await deleteAll(sqs, queueUrl, done);
    this.options.onInvocation?.(invocation);
    return invocation;
  }

  /**
   * One batch: receives of at most 10 (the SQS limit) until `batchSize` messages, until the
   * batching window has passed, or until a receive comes back empty after the first messages.
   */
  private async gather(): Promise<Message[]> {
    if (this.window) return this.gatherFair(this.window);
    const { batchSize } = this.options;
    const windowEndsMs = Date.now() + (this.options.maxBatchingWindowSeconds ?? 0) * 1000;
    const messages: Message[] = [];
    do {
      const got = await this.receive(Math.min(10, batchSize - messages.length), messages.length === 0);
      messages.push(...got);
      if (got.length === 0 && messages.length > 0) break;
      if (messages.length === 0) break;
    } while (messages.length < batchSize && Date.now() < windowEndsMs);
    return messages;
  }

  /**
   * One fair batch: first the held messages past their limit go back to the queue; then receives
   * top up the held messages to the lookahead while the queue answers full receives (gathering a
   * batch of `batchSize` keeps the batching window's rule above); then the batch is chosen.
   */
  private async gatherFair(window: FairWindow): Promise<Message[]> {
    const { batchSize } = this.options;
    await this.release(window.overdue(Date.now()));
    const windowEndsMs = Date.now() + (this.options.maxBatchingWindowSeconds ?? 0) * 1000;
    const target = window.target(batchSize);
    while (window.size < target) {
      const asked = Math.min(10, target - window.size);
      const got = await this.receive(asked, window.size === 0);
      window.hold(got, Date.now());
      if (got.length === 0) break;
      if (window.size >= batchSize ? got.length < asked : Date.now() >= windowEndsMs) break;
    }
    return window.take(batchSize);
  }

  private async receive(max: number, longPoll: boolean): Promise<Message[]> {
    const received = await this.options.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.options.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: longPoll ? (this.options.waitTimeSeconds ?? 1) : 0,
        MessageSystemAttributeNames: ['All'],
        MessageAttributeNames: ['All'],
      }),
    );
    return received.Messages ?? [];
  }

  /** Held messages back on the queue at once (visibility 0), so none waits out its timeout. */
  private async release(messages: readonly Message[]): Promise<void> {
    const { sqs, queueUrl } = this.options;
    // ChangeMessageVisibilityBatch takes at most 10 entries.
    for (let start = 0; start < messages.length; start += 10) {
      const chunk = messages.slice(start, start + 10);
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((message, index) => ({
            Id: String(index),
            ReceiptHandle: message.ReceiptHandle,
            VisibilityTimeout: 0,
          })),
        }),
      );
      if (result.Failed && result.Failed.length > 0) {
        throw new Error(
          `ChangeMessageVisibilityBatch failed for ${result.Failed.length} message(s): ${result.Failed[0]?.Message}`,
        );
      }
    }
  }

  /**
   * Kills the running invocation as a crashed environment would: the event source gives up
   * on it, deletes nothing, and the handler's pending work never reaches its `finally`.
   */
  abandonCurrentInvocation(reason: string): boolean {
    if (!this.current) return false;
    this.current.abandon(reason);
    return true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.pollOnce();
        } catch (error) {
          this.options.onError?.(error);
          if (this.running) await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
    })();
  }

  /** Stops polling after the running invocation (if any) ends; held messages go back to the queue. */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    if (this.window) await this.release(this.window.releaseAll());
  }

  private async invoke(messages: readonly Message[]): Promise<Invocation> {
    const { handler, functionName, timeoutSeconds, queueArn } = this.options;
    const region = this.options.region ?? 'local';
    const ids = messages.map((message) => message.MessageId ?? '');
    const event: SQSEvent = { Records: messages.map((message) => toRecord(message, queueArn, region)) };
    const context = createLambdaContext({ functionName, timeoutSeconds, region });
    const all = (outcome: InvocationOutcome, error: string): Invocation => ({
      messageIds: ids,
      failedIds: ids,
      outcome,
      error,
    });

    let timer: NodeJS.Timeout | undefined;
    const killed = new Promise<Invocation>((resolve) => {
      timer = setTimeout(
        () => resolve(all('timeout', `Task timed out after ${timeoutSeconds} seconds`)),
        timeoutSeconds * 1000,
      );
      this.current = { ids, abandon: (reason) => resolve(all('abandoned', reason)) };
    });
    const ran = handler(event, context).then(
      (response) => judge(ids, response),
      (error: unknown) => all('error', error instanceof Error ? error.message : String(error)),
    );
    try {
      return await Promise.race([ran, killed]);
    } finally {
      clearTimeout(timer);
      this.current = undefined;
    }
  }
}

/**
 * Lambda's reading of a partial batch response: an empty or absent list means all done; an
 * identifier that is empty or not in the batch makes the whole batch count as failed.
 */
export function judge(ids: readonly string[], response: SQSBatchResponse | undefined): Invocation {
  const failures = response?.batchItemFailures ?? [];
  if (failures.length === 0) return { messageIds: ids, failedIds: [], outcome: 'ok' };
  const known = new Set(ids);
  const bad = failures.find((failure) => !failure.itemIdentifier || !known.has(failure.itemIdentifier));
  if (bad) {
    return {
      messageIds: ids,
      failedIds: ids,
      outcome: 'error',
      error: `batchItemFailures names "${bad.itemIdentifier ?? ''}", which is not in the batch: the whole batch fails`,
    };
  }
  const failedIds = [...new Set(failures.map((failure) => failure.itemIdentifier))];
  return { messageIds: ids, failedIds, outcome: 'partial' };
}

export function toRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const system = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: system.ApproximateReceiveCount ?? '1',
      SentTimestamp: system.SentTimestamp ?? String(Date.now()),
      SenderId: system.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: system.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: toLambdaAttributes(message.MessageAttributes ?? {}),
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

function toLambdaAttributes(attributes: Record<string, MessageAttributeValue>): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(attributes)) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return out;
}

async function deleteAll(sqs: SQSClient, queueUrl: string, messages: readonly Message[]): Promise<void> {
  // DeleteMessageBatch takes at most 10 entries.
  for (let start = 0; start < messages.length; start += 10) {
    const chunk = messages.slice(start, start + 10);
    const result = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    if (result.Failed && result.Failed.length > 0) {
      throw new Error(
        `DeleteMessageBatch failed for ${result.Failed.length} message(s): ${result.Failed[0]?.Message}`,
      );
    }
  }
}
