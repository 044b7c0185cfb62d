import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { MessageAttr } from '../contract';
import { backoffDelayMs } from '../vendor/backoff';
import { validateMessage, type WorkMessage } from './message';

/** SendMessageBatch takes at most 10 entries and 256 KiB in all (the per-message limit is larger, the batch one is not). */
export const SQS_BATCH_ENTRIES = 10;
export const SQS_BATCH_BYTES = 256 * 1024;

export interface EnqueueOptions {
  /** Called after each batch with the number of messages sent so far and the total. */
  readonly onProgress?: (progress: { readonly sent: number; readonly total: number }) => void;
  /** Retries of failed entries (and of a batch that failed as a whole) before giving up. @default 5 */
  readonly maxRetries?: number;
  /** @default { baseMs: 100, maxMs: 5000 } */
  readonly backoff?: { readonly baseMs: number; readonly maxMs: number };
  /** Injected for tests. @default Date.now */
  readonly clock?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface EnqueueReport {
  readonly sent: number;
  /** Entries that needed more than one try. */
  readonly retried: number;
}

/** Messages that were not on the queue after every retry: nothing is dropped silently. */
export class EnqueueError extends Error {
  override readonly name = 'EnqueueError';
  constructor(
    message: string,
    /** `id: problem` for each message that was not sent. */
    readonly failures: readonly string[],
  ) {
    super(message);
  }
}

export function isEnqueueError(error: unknown): error is EnqueueError {
  return error instanceof EnqueueError;
}

interface Pending {
  readonly entry: SendMessageBatchRequestEntry;
  readonly id: string;
  readonly bytes: number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Sends work messages to the worker's queue: each validated first (an invalid one throws
 * before anything is sent), SendMessageBatch in tens, failed entries retried with jittered
 * backoff. Sets attempt 0 and the first-seen time, which the worker carries across requeues.
 */
export async function enqueue(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly (WorkMessage | Readonly<Record<string, unknown>>)[],
  options: EnqueueOptions = {},
): Promise<EnqueueReport> {
  const clock = options.clock ?? Date.now;
  const pending = prepare(messages, clock());
  const maxRetries = options.maxRetries ?? 5;
  const backoff = options.backoff ?? { baseMs: 100, maxMs: 5_000 };
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? defaultSleep;
  let sent = 0;
  let retried = 0;
  let failures: string[] = [];
  let remaining = pending;
  for (let attempt = 0; remaining.length > 0 && attempt <= maxRetries; attempt++) {
    if (attempt > 0) {
      retried += remaining.length;
      await sleep(backoffDelayMs(attempt - 1, backoff, random));
    }
    const next: Pending[] = [];
    failures = [];
    for (const batch of batches(remaining)) {
      const result = await sendBatch(sqs, queueUrl, batch);
      sent += batch.length - result.failed.length;
      next.push(...result.failed.map((failure) => failure.pending));
      failures.push(...result.failed.map((failure) => `${failure.pending.id}: ${failure.problem}`));
      options.onProgress?.({ sent, total: pending.length });
    }
    remaining = next;
  }
  if (remaining.length > 0) {
    throw new EnqueueError(
      `Could not enqueue ${remaining.length} of ${pending.length} message(s) after ${maxRetries} retries: ${failures.join('; ')}`,
      failures,
    );
  }
  return { sent, retried };
}

function prepare(messages: readonly unknown[], nowMs: number): Pending[] {
  const problems: string[] = [];
  const pending = messages.flatMap((raw, index): Pending[] => {
    const parsed = validateMessage(raw);
    if (!parsed.ok) {
      problems.push(`message ${index + 1}: ${parsed.reason}`);
      return [];
    }
    const body = JSON.stringify(parsed.message);
    const attributes: Record<string, MessageAttributeValue> = {
      [MessageAttr.attempt]: { DataType: 'Number', StringValue: '0' },
      [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(nowMs) },
    };
    // Entry ids only allow [A-Za-z0-9_-]; the position is unique within the call.
    const entry = { Id: `m${index}`, MessageBody: body, MessageAttributes: attributes };
    return [{ entry, id: parsed.message.id, bytes: Buffer.byteLength(body) + 128 }];
  });
  if (problems.length > 0) {
    throw new EnqueueError(`Invalid message(s), nothing was sent: ${problems.join('; ')}`, problems);
  }
  return pending;
}

function* batches(pending: readonly Pending[]): Generator<Pending[]> {
  let batch: Pending[] = [];
  let bytes = 0;
  for (const item of pending) {
    if (batch.length === SQS_BATCH_ENTRIES || (batch.length > 0 && bytes + item.bytes > SQS_BATCH_BYTES)) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(item);
    bytes += item.bytes;
  }
  if (batch.length > 0) yield batch;
}

async function sendBatch(
  sqs: SQSClient,
  queueUrl: string,
  batch: readonly Pending[],
): Promise<{ failed: { pending: Pending; problem: string }[] }> {
  try {
    const output = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((item) => item.entry) }),
    );
    const byEntryId = new Map(batch.map((item) => [item.entry.Id, item]));
    const failed = (output.Failed ?? []).flatMap((failure) => {
      const pending = byEntryId.get(failure.Id);
      return pending
        ? [{ pending, problem: `${failure.Code ?? 'Failed'} ${failure.Message ?? ''}`.trim() }]
        : [];
    });
    return { failed };
  } catch (error) {
    // A batch that failed as a whole (network, throttling) is retried entry by entry like any failure.
    const problem = `${(error as Error).name}: ${(error as Error).message}`;
    return { failed: batch.map((pending) => ({ pending, problem })) };
  }
}
