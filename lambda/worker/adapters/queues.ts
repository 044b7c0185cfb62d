import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { messageGroupOfBody } from '../../producer/attributes';
import { type Delivery, deadLetterAttributes, deliveryAttributes } from './attributes';

/**
 * The worker's two sends. Both copy the original body byte for byte: the producer's message
 * is the contract, and a DLQ entry must be redrivable as it was.
 */
export interface WorkQueues {
  /** A copy of the message on the work queue, visible after `delaySeconds`, with the next attempt. */
  requeue(body: string, next: Delivery, delaySeconds: number): Promise<void>;
  /** The message on the DLQ with the reason and its detail as attributes. */
  deadLetter(body: string, delivery: Delivery, reason: string, detail: string): Promise<void>;
}

/** One send as SQS receives it, without the queue: the SQS adapter and the memory queues (memory-queues.ts) send the same. */
export interface QueueSend {
  readonly MessageBody: string;
  readonly MessageAttributes: Record<string, MessageAttributeValue>;
  readonly DelaySeconds?: number;
  /** The requeued copy keeps its product's group (fair queues, producer/attributes.ts). */
  readonly MessageGroupId?: string;
}

export function requeueSend(body: string, next: Delivery, delaySeconds: number): QueueSend {
  return {
    MessageBody: body,
    DelaySeconds: delaySeconds,
    MessageAttributes: deliveryAttributes(next),
    ...messageGroupOfBody(body),
  };
}

export function deadLetterSend(body: string, delivery: Delivery, reason: string, detail: string): QueueSend {
  return { MessageBody: body, MessageAttributes: deadLetterAttributes(delivery, reason, detail) };
}

export function sqsWorkQueues(sqs: SQSClient, queueUrl: string, deadLetterQueueUrl: string): WorkQueues {
  return {
    async requeue(body, next, delaySeconds) {
      await sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, ...requeueSend(body, next, delaySeconds) }),
      );
    },
    async deadLetter(body, delivery, reason, detail) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          ...deadLetterSend(body, delivery, reason, detail),
        }),
      );
    },
  };
}
