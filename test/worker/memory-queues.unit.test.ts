import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MessageAttr } from '../../lambda/contract';
import { MemoryWorkQueues, type QueueName } from '../../lambda/worker/adapters/memory-queues';
import { type QueueSend, sqsWorkQueues } from '../../lambda/worker/adapters/queues';

const body = JSON.stringify({ id: 'o-1', product: 'checkout', operation: 'createVisit' });

/** The SQS adapter's sends, caught at its client: what SQS would have been asked to do. */
function sqsSends(): { sqs: SQSClient; inputs: unknown[] } {
  const inputs: unknown[] = [];
  const send = async (command: unknown) => {
    if (command instanceof SendMessageCommand) inputs.push(command.input);
    return {};
  };
  return { sqs: { send } as unknown as SQSClient, inputs };
}

describe('the memory work queues', () => {
  it('keep each requeued copy and dead letter as the SQS adapter sends it, without the queue URL', async () => {
    const handed: Array<[QueueName, QueueSend]> = [];
    const memory = new MemoryWorkQueues((queue, message) => handed.push([queue, message]));
    const { sqs, inputs } = sqsSends();
    const real = sqsWorkQueues(sqs, 'https://sqs/work', 'https://sqs/dlq');
    for (const queues of [memory, real]) {
      await queues.requeue(body, { attempt: 2, firstSeenAtMs: 1_000, unstarted: true }, 30);
      await queues.deadLetter(body, { attempt: 3, firstSeenAtMs: 1_000 }, 'max_attempts', 'attempt 3 of 3');
    }
    expect(inputs).toEqual([
      { QueueUrl: 'https://sqs/work', ...memory.requeued[0] },
      { QueueUrl: 'https://sqs/dlq', ...memory.deadLettered[0] },
    ]);
    expect(memory.requeued).toEqual([
      {
        MessageBody: body,
        DelaySeconds: 30,
        MessageGroupId: 'checkout',
        MessageAttributes: {
          [MessageAttr.attempt]: { DataType: 'Number', StringValue: '2' },
          [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: '1000' },
          [MessageAttr.unstarted]: { DataType: 'Number', StringValue: '1' },
        },
      },
    ]);
    expect(memory.deadLettered).toEqual([
      {
        MessageBody: body,
        MessageAttributes: {
          [MessageAttr.attempt]: { DataType: 'Number', StringValue: '3' },
          [MessageAttr.firstSeenAtMs]: { DataType: 'Number', StringValue: '1000' },
          [MessageAttr.deadLetterReason]: { DataType: 'String', StringValue: 'max_attempts' },
          [MessageAttr.deadLetterDetail]: { DataType: 'String', StringValue: 'attempt 3 of 3' },
        },
      },
    ]);
    expect(handed).toEqual([
      ['work', memory.requeued[0]],
      ['deadLetter', memory.deadLettered[0]],
    ]);
  });

  it('refuse a delay SQS would refuse, and keep nothing of it', async () => {
    const memory = new MemoryWorkQueues();
    await expect(memory.requeue(body, { attempt: 1, firstSeenAtMs: 0 }, 901)).rejects.toThrow(
      'DelaySeconds must be an integer from 0 to 900 (got 901), as SQS requires',
    );
    await expect(memory.requeue(body, { attempt: 1, firstSeenAtMs: 0 }, 1.5)).rejects.toThrow(
      'DelaySeconds must be an integer from 0 to 900 (got 1.5), as SQS requires',
    );
    expect(memory.requeued).toEqual([]);
  });
});
