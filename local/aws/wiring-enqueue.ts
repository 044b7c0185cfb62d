import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MessageAttr } from '../../lambda/contract';
import { enqueue, validateMessage } from '../../lambda/producer';

/**
 * Sends the workload: valid messages through the producer helper (`enqueue`), which refuses
 * invalid ones; the demo's invalid-on-purpose messages go straight to the queue with the
 * same attributes, as a careless producer would send them, so the worker's DLQ path shows.
 */
export async function enqueueWorkload(
  sqs: SQSClient,
  queueUrl: string,
  messages: readonly Record<string, unknown>[],
  nowMs: number = Date.now(),
): Promise<void> {
  const valid = messages.filter((message) => validateMessage(message).ok);
  const invalid = messages.filter((message) => !validateMessage(message).ok);
  await enqueue(sqs, queueUrl, valid);
  for (let start = 0; start < invalid.length; start += 10) {
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: invalid.slice(start, start + 10).map((message, index) => ({
          Id: `invalid${index}`,
          MessageBody: JSON.stringify(message),
          MessageAttributes: {
            [MessageAttr.attempt]: { DataType: 'Number', StringValue: '0' },
            [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: String(nowMs) },
          },
        })),
      }),
    );
    if (result.Failed?.length) {
      throw new Error(
        `Could not enqueue ${result.Failed.length} invalid demo message(s): ${result.Failed[0]?.Message}`,
      );
    }
  }
}
