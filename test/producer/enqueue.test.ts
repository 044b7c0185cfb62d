import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { MessageAttr } from '../../lambda/contract';
import { EnqueueError, enqueue } from '../../lambda/producer';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

const sqs = new SQSClient({ endpoint: localEndpoints().sqs, region: process.env.AWS_REGION ?? 'us-east-1' });

async function createQueue(): Promise<string> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('enqueue') }));
  return created.QueueUrl ?? '';
}

async function drain(queueUrl: string): Promise<{ body: unknown; attempt?: string; firstSeen?: string }[]> {
  const seen: { body: unknown; attempt?: string; firstSeen?: string }[] = [];
  for (;;) {
    const output = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        WaitTimeSeconds: 0,
      }),
    );
    const messages = output.Messages ?? [];
    if (messages.length === 0) return seen;
    for (const message of messages) {
      seen.push({
        body: JSON.parse(message.Body ?? 'null'),
        attempt: message.MessageAttributes?.[MessageAttr.attempt]?.StringValue,
        firstSeen: message.MessageAttributes?.[MessageAttr.firstSeenAtMs]?.StringValue,
      });
    }
  }
}

afterAll(() => sqs.destroy());

describe('enqueue', () => {
  it('sends 23 messages in batches of ten with attempt 0 and the first-seen time', async () => {
    const queueUrl = await createQueue();
    const messages = Array.from({ length: 23 }, (_, index) => ({
      id: `m-${index}`,
      operation: 'createVisit',
    }));
    const progress: number[] = [];
    const report = await enqueue(sqs, queueUrl, messages, {
      clock: () => 1_700_000_000_000,
      onProgress: ({ sent }) => progress.push(sent),
    });
    expect(report).toEqual({ sent: 23, retried: 0 });
    expect(progress).toEqual([10, 20, 23]);
    const received = await drain(queueUrl);
    expect(received.map((message) => (message.body as { id: string }).id).sort()).toEqual(
      messages.map((message) => message.id).sort(),
    );
    expect(new Set(received.map((message) => `${message.attempt}@${message.firstSeen}`))).toEqual(
      new Set(['0@1700000000000']),
    );
  });

  it('refuses an invalid message before sending anything', async () => {
    const queueUrl = await createQueue();
    await expect(
      enqueue(sqs, queueUrl, [
        { id: 'ok', operation: 'x' },
        { id: 'bad', operation: 7 },
      ]),
    ).rejects.toThrow(
      new EnqueueError(
        'Invalid message(s), nothing was sent: message 2: operation: Invalid input: expected string, received number',
        [],
      ),
    );
    expect(await drain(queueUrl)).toEqual([]);
  });

  it('retries a failing queue and then names every message it could not send', async () => {
    const missingQueue = `${localEndpoints().sqs}/000000000000/${uniqueName('missing')}`;
    const sleeps: number[] = [];
    const attempt = enqueue(
      sqs,
      missingQueue,
      [
        { id: 'a', operation: 'x' },
        { id: 'b', operation: 'x' },
      ],
      {
        maxRetries: 2,
        random: () => 0.5,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    );
    await expect(attempt).rejects.toThrow(
      /^Could not enqueue 2 of 2 message\(s\) after 2 retries: a: .+; b: .+$/,
    );
    expect(sleeps).toEqual([50, 100]);
  });
});
