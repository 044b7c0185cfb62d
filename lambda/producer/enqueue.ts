import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { backoffDelayMs } from '../backoff';
import { SluiceError } from '../sluice/errors';
import { MessageAttr, messageGroupOf } from './attributes';
import { validateMessage, type WorkMessage } from './message';

/** SendMessageBatch takes at most 10 entries and 256 KiB in all (the per-message limit is larger, the batch one is not). */
export const SQS_BATCH_ENTRIES = 10;
export const SQS_BATCH_BYTES = 256 * 1024;
/** Room each entry takes in a batch beyond its body (the two attributes and the entry id). */
const ENTRY_OVERHEAD_BYTES = 128;
/** The largest body that fits a batch on its own: a bigger one can never be sent. */
export const MAX_MESSAGE_BYTES = SQS_BATCH_BYTES - ENTRY_OVERHEAD_BYTES;

/** A message whose body is too big for SQS, said in bytes; undefined if it fits. */
export function messageSizeProblem(message: WorkMessage): string | undefined {
  const bytes = Buffer.byteLength(JSON.stringify(message));
  return bytes > MAX_MESSAGE_BYTES
    ? `(message): is ${bytes} bytes as JSON, over the ${MAX_MESSAGE_BYTES} bytes SQS takes (256 KiB per batch): put large payloads in S3 and send a reference`
    : undefined;
}

export interface EnqueueOptions {
  /** Called after each batch with the number of messages sent so far and the total. */
  readonly onProgress?: (progress: { readonly sent: number; readonly total: number }) => void;
  /**
   * Retries of failed entries (and of a batch that failed as a whole) before giving up; only
   * failures that can pass on a retry are retried (not a missing queue, bad credentials or
   * an entry SQS refused as the sender's fault). @default 5
   */
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
export class EnqueueError extends SluiceError {
  override readonly name: string = 'EnqueueError';
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
  /** Entries a retry cannot fix (a missing queue, a refused key, a sender fault): not retried. */
  const gaveUp: string[] = [];
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
      for (const failure of result.failed) {
        const line = `${failure.pending.id}: ${failure.problem}`;
        if (failure.permanent) gaveUp.push(line);
        else {
          next.push(failure.pending);
          failures.push(line);
        }
      }
      options.onProgress?.({ sent, total: pending.length });
    }
    remaining = next;
  }
  if (remaining.length + gaveUp.length > 0) {
    const parts = [
      ...(gaveUp.length > 0 ? [`after a failure a retry cannot fix: ${summarise(gaveUp)}`] : []),
      ...(remaining.length > 0 ? [`after ${maxRetries} retries: ${summarise(failures)}`] : []),
    ];
    throw new EnqueueError(
      `Could not enqueue ${remaining.length + gaveUp.length} of ${pending.length} message(s) ${parts.join('; and ')}`,
      [...gaveUp, ...failures],
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
    const tooBig = messageSizeProblem(parsed.message);
    if (tooBig) {
      problems.push(`message ${index + 1}: ${tooBig}`);
      return [];
    }
    const body = JSON.stringify(parsed.message);
    const attributes: Record<string, MessageAttributeValue> = {
      [MessageAttr.attempt]: { DataType: 'Number', StringValue: '0' },
      [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(nowMs) },
    };
    // Entry ids only allow [A-Za-z0-9_-]; the position is unique within the call.
    const entry = {
      Id: `m${index}`,
      MessageBody: body,
      MessageAttributes: attributes,
      ...messageGroupOf(parsed.message.product),
    };
    return [{ entry, id: parsed.message.id, bytes: Buffer.byteLength(body) + ENTRY_OVERHEAD_BYTES }];
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
): Promise<{ failed: { pending: Pending; problem: string; permanent: boolean }[] }> {
  try {
    const output = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((item) => item.entry) }),
    );
    const byEntryId = new Map(batch.map((item) => [item.entry.Id, item]));
    const failed = (output.Failed ?? []).flatMap((failure) => {
      const pending = byEntryId.get(failure.Id);
      return pending
        ? [
            {
              pending,
              problem: `${failure.Code ?? 'Failed'} ${failure.Message ?? ''}`.trim(),
              permanent: failure.SenderFault === true,
            },
          ]
        : [];
    });
    return { failed };
  } catch (error) {
    // A batch that failed as a whole is retried entry by entry if a retry can help (network,
    // throttling, a server fault); the SDK has already retried throttling on its own.
    const problem = `${(error as Error).name}: ${(error as Error).message}`;
    const permanent = isPermanentFailure(error);
    return { failed: batch.map((pending) => ({ pending, problem, permanent })) };
  }
}

/**
 * A client fault of the service (QueueDoesNotExist, AccessDenied, an invalid token, a batch
 * too long) or no credentials at all: sending the same request again gives the same answer.
 */
export function isPermanentFailure(error: unknown): boolean {
  const { name, $fault, $retryable } = error as { name?: string; $fault?: string; $retryable?: unknown };
  if (name === 'CredentialsProviderError') return true;
  // Raised by the client before any request: the same configuration fails the same way.
  if (/Region is missing/.test((error as Error).message ?? '')) return true;
  if ($retryable) return false;
  return $fault === 'client' && !/Throttl|RequestThrottled|OverLimit/.test(name ?? '');
}

/** Many entries failing for one reason are said once, with their count. */
function summarise(failures: readonly string[]): string {
  const byProblem = new Map<string, string[]>();
  for (const failure of failures) {
    const [id = '', ...rest] = failure.split(': ');
    const problem = rest.join(': ');
    byProblem.set(problem, [...(byProblem.get(problem) ?? []), id]);
  }
  return [...byProblem]
    .map(([problem, ids]) =>
      ids.length === 1
        ? `${ids[0]}: ${problem}`
        : `${problem} (${ids.length} messages: ${ids.slice(0, 3).join(', ')}${ids.length > 3 ? ', ...' : ''})`,
    )
    .join('; ');
}
