import { CreateQueueCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { EventSourcePoller } from '../../local/event-source/poller';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

const sqs = new SQSClient({ endpoint: localEndpoints().sqs, region: 'us-east-1' });

describe('the event source poller, with a batch over 10', () => {
  it('gathers the batch over several receives within the batching window, and no more than batchSize', async () => {
    const { QueueUrl: queueUrl = '' } = await sqs.send(
      new CreateQueueCommand({ QueueName: uniqueName('poller-batch') }),
    );
    for (let start = 0; start < 30; start += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: `m${start + i}` })),
        }),
      );
    }
    const events: SQSEvent[] = [];
    const poller = new EventSourcePoller({
      sqs,
      queueUrl,
      queueArn: 'arn:aws:sqs:local:000000000000:poller-batch',
      handler: async (event) => {
        events.push(event);
        return { batchItemFailures: [] };
      },
      batchSize: 25,
      // Long enough that the three receives it takes always fit: the batch ends when full.
      maxBatchingWindowSeconds: 60,
      functionName: 'worker',
      timeoutSeconds: 30,
      waitTimeSeconds: 1,
    });
    await poller.pollOnce();
    await poller.pollOnce();
    expect(events.map((event) => event.Records.length)).toEqual([25, 5]);
    const bodies = events.flatMap((event) => event.Records.map((record) => record.body));
    expect(new Set(bodies).size).toBe(30);
  });
});
