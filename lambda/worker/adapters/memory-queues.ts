import type { Delivery } from './attributes';
import { deadLetterSend, type QueueSend, requeueSend, type WorkQueues } from './queues';

/** SQS refuses a DelaySeconds outside 0–900 (InvalidParameterValue); so does the memory queue. */
const MAX_DELAY_SECONDS = 900;

/** Which of the worker's two queues a send went to. */
export type QueueName = 'work' | 'deadLetter';

/**
 * The worker's sends in memory, for unit tests and a worker without SQS: each send is the
 * message the SQS adapter would send (queues.ts builds both), kept in order, so a test reads
 * a requeued copy or a dead letter back as its consumer would: body, attributes, delay, group.
 * `onSend` hands each one on as it is sent (a memory work queue that delivers the copy again).
 */
export class MemoryWorkQueues implements WorkQueues {
  /** Every copy sent to the work queue, oldest first. */
  readonly requeued: QueueSend[] = [];
  /** Every message sent to the DLQ, oldest first. */
  readonly deadLettered: QueueSend[] = [];

  constructor(private readonly onSend?: (queue: QueueName, message: QueueSend) => void) {}

  async requeue(body: string, next: Delivery, delaySeconds: number): Promise<void> {
    if (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > MAX_DELAY_SECONDS) {
      throw new RangeError(
        `DelaySeconds must be an integer from 0 to ${MAX_DELAY_SECONDS} (got ${delaySeconds}), as SQS requires`,
      );
    }
    const message = requeueSend(body, next, delaySeconds);
    this.requeued.push(message);
    this.onSend?.('work', message);
  }

  async deadLetter(body: string, delivery: Delivery, reason: string, detail: string): Promise<void> {
    const message = deadLetterSend(body, delivery, reason, detail);
    this.deadLettered.push(message);
    this.onSend?.('deadLetter', message);
  }
}
