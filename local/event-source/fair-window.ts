import type { Message } from '@aws-sdk/client-sqs';
import { messageGroupOfBody } from '../../lambda/producer/attributes';
import { chooseFairBatch } from './fair-batch';

/** The local equivalent of SQS fair queues (docs/local-stack.md, "Fair queues locally"). */
export interface FairQueueOptions {
  /** Messages the poller holds at most, to see past one group's backlog. */
  readonly lookaheadMessages: number;
  /** How long a held message may wait for a batch before it goes back to the queue. */
  readonly holdLimitSeconds: number;
}

/**
 * A held message may wait the visibility timeout less two function timeouts: handed over at the
 * limit, its invocation still ends (or is killed) a whole function timeout before the message
 * could reappear, so it is never hidden longer than the visibility timeout, nor delivered twice.
 */
export function fairWindowOptions(
  fairQueue: { readonly lookaheadMessages: number; readonly visibilityTimeoutSeconds: number },
  timeoutSeconds: number,
): FairQueueOptions {
  const { lookaheadMessages, visibilityTimeoutSeconds } = fairQueue;
  const holdLimitSeconds = visibilityTimeoutSeconds - 2 * timeoutSeconds;
  const problems = [
    ...(Number.isInteger(lookaheadMessages) && lookaheadMessages >= 1
      ? []
      : [`fairQueue.lookaheadMessages must be a positive integer (got ${lookaheadMessages})`]),
    ...(holdLimitSeconds > 0
      ? []
      : [
          `fairQueue.visibilityTimeoutSeconds must be over twice the function timeout of ${timeoutSeconds} s (got ${visibilityTimeoutSeconds})`,
        ]),
  ];
  if (problems.length > 0) throw new Error(problems.join('; '));
  return { lookaheadMessages, holdLimitSeconds };
}

interface Held {
  readonly message: Message;
  readonly group: string | undefined;
  readonly heldSinceMs: number;
}

/**
 * Messages received ahead of the batch, held in flight (under the queue's visibility timeout)
 * until a fair batch takes them or they have waited `holdLimitSeconds`. Holding, rather than
 * receiving a wide window and returning the rest at once, receives each message once: every
 * receive counts toward the redrive policy's maxReceiveCount, so a message peeked and put back
 * on every poll would reach the DLQ without ever failing.
 */
export class FairWindow {
  private readonly held = new Map<string, Held>();
  /** The pick number of each group's latest message handed over: who was served longest ago. */
  private readonly lastServed = new Map<string, number>();
  private picks = 0;

  constructor(private readonly options: FairQueueOptions) {}

  get size(): number {
    return this.held.size;
  }

  /** How many messages to hold before choosing a batch of `batchSize`. */
  target(batchSize: number): number {
    return Math.max(batchSize, this.options.lookaheadMessages);
  }

  hold(messages: readonly Message[], nowMs: number): void {
    for (const message of messages) {
      // One entry per message id: a copy received again replaces the old (its receipt is the live one).
      this.held.set(message.MessageId ?? '', { message, group: groupOf(message), heldSinceMs: nowMs });
    }
  }

  /** The next batch, chosen fairly across groups; those messages are no longer held. */
  take(batchSize: number): Message[] {
    const candidates = [...this.held.entries()].map(([id, { group }]) => ({ id, group }));
    const batch: Message[] = [];
    for (const id of chooseFairBatch(candidates, batchSize, this.lastServed)) {
      const entry = this.held.get(id);
      if (!entry) continue;
      this.held.delete(id);
      if (entry.group !== undefined) this.lastServed.set(entry.group, this.picks);
      this.picks += 1;
      batch.push(entry.message);
    }
    return batch;
  }

  /** Held messages that have waited their limit, no longer held: the poller returns them to the queue. */
  overdue(nowMs: number): Message[] {
    const limitMs = this.options.holdLimitSeconds * 1000;
    const out: Message[] = [];
    for (const [id, entry] of this.held) {
      if (nowMs - entry.heldSinceMs < limitMs) continue;
      this.held.delete(id);
      out.push(entry.message);
    }
    return out;
  }

  /** Every held message, no longer held (the poller stops). */
  releaseAll(): Message[] {
    const out = [...this.held.values()].map((entry) => entry.message);
    this.held.clear();
    return out;
  }
}

/**
 * The message group: SQS returns it as a system attribute; fauxqs drops it on a standard queue,
 * so the producer's own rule on the body (its product) gives the same group.
 */
function groupOf(message: Message): string | undefined {
  return message.Attributes?.MessageGroupId ?? messageGroupOfBody(message.Body ?? '').MessageGroupId;
}
