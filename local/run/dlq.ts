import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MessageAttr } from '../../lambda/contract';

/** A message found in the dead-letter queue. */
export interface DeadLetter {
  /** The producer's `id` from the body, or `sqs:<MessageId>` for a body without one. */
  readonly id: string;
  readonly reason: string;
  /** The worker's words for it (e.g. which operation is unknown), when it gave some. */
  readonly detail?: string;
}

/** Messages moved by the queue's redrive carry no reason of the worker's: this one says so. */
export const REDRIVE_REASON = 'redrive_max_receive_count';

/**
 * Reads (and deletes) everything in the DLQ: once the run is over, and on every tick of the
 * serve mode, which shows each dead letter as it arrives. The worker attaches its
 * reason as a message attribute; a message redriven by SQS after maxReceiveCount failed
 * receives has none and is reported with REDRIVE_REASON.
 */
export async function drainDeadLetters(
  sqs: SQSClient,
  dlqUrl: string,
  /** Also return the worker's detail attribute (the run's report shows it). */
  options: { readonly withDetail?: boolean } = {},
): Promise<DeadLetter[]> {
  const found: DeadLetter[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        VisibilityTimeout: 60,
      }),
    );
    if (Messages.length === 0) return found;
    for (const message of Messages) {
      const reason = message.MessageAttributes?.[MessageAttr.deadLetterReason]?.StringValue ?? REDRIVE_REASON;
      const detail = options.withDetail
        ? message.MessageAttributes?.[MessageAttr.deadLetterDetail]?.StringValue
        : undefined;
      found.push({
        id: bodyId(message.Body) ?? `sqs:${message.MessageId}`,
        reason,
        ...(detail ? { detail } : {}),
      });
    }
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: Messages.map((message, index) => ({
          Id: String(index),
          ReceiptHandle: message.ReceiptHandle,
        })),
      }),
    );
  }
}

/** The producer's id of a message body, if it is JSON with a string `id`. */
export function bodyId(body: string | undefined): string | undefined {
  try {
    const id = (JSON.parse(body ?? '') as { id?: unknown }).id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}
