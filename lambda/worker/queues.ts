import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { messageGroupOfBody } from '../producer/attributes';
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

export function sqsWorkQueues(sqs: SQSClient, queueUrl: string, deadLetterQueueUrl: string): WorkQueues {
  return {
    async requeue(body, next, delaySeconds) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: body,
          DelaySeconds: delaySeconds,
          MessageAttributes: deliveryAttributes(next),
          ...messageGroupOfBody(body),
        }),
      );
    },
    async deadLetter(body, delivery, reason, detail) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          MessageBody: body,
          MessageAttributes: deadLetterAttributes(delivery, reason, detail),
        }),
      );
    },
  };
}
