import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { enqueue } from '../../lambda/producer';
import { sqsWorkQueues } from '../../lambda/worker/adapters/queues';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

/**
 * fauxqs accepts a message group on a standard queue but does not keep it (docs/worker.md, "Fair
 * shares", "Locally"), so the group is read from each request as the client sends it to fauxqs,
 * and the messages are read back from the real queue.
 */
const sqs = new SQSClient({ endpoint: localEndpoints().sqs, region: process.env.AWS_REGION ?? 'us-east-1' });
const sent: Record<string, string | undefined> = {};
sqs.middlewareStack.add(
  (next) => async (args) => {
    const input = args.input as {
      Entries?: { MessageBody?: string; MessageGroupId?: string }[];
      MessageBody?: string;
      MessageGroupId?: string;
    };
    for (const entry of input.Entries ?? (input.MessageBody === undefined ? [] : [input])) {
      sent[(JSON.parse(entry.MessageBody ?? '{}') as { id: string }).id] = entry.MessageGroupId;
    }
    return next(args);
  },
  { step: 'initialize', name: 'recordMessageGroups' },
);
afterAll(() => sqs.destroy());

async function receivedIds(queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const output = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = output.Messages ?? [];
    if (messages.length === 0) return ids.sort();
    for (const message of messages) ids.push((JSON.parse(message.Body ?? '{}') as { id: string }).id);
  }
}

describe('message groups on the standard work queue (fair queues)', () => {
  it('sends each message in the group of its product, keeps the group on a requeue, and none without a product', async () => {
    const created = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('groups') }));
    const queueUrl = created.QueueUrl ?? '';
    await enqueue(sqs, queueUrl, [
      { id: 'b-1', operation: 'createVisit', product: 'batch' },
      { id: 'c-1', operation: 'createVisit', product: 'checkout' },
      { id: 'n-1', operation: 'createVisit' },
    ]);
    const body = JSON.stringify({ id: 'c-2', operation: 'createVisit', product: 'checkout' });
    await sqsWorkQueues(sqs, queueUrl, queueUrl).requeue(body, { attempt: 1, firstSeenAtMs: 1 }, 0);
    expect(sent).toEqual({ 'b-1': 'batch', 'c-1': 'checkout', 'n-1': undefined, 'c-2': 'checkout' });
    // A standard queue takes the groups: every message arrived.
    expect(await receivedIds(queueUrl)).toEqual(['b-1', 'c-1', 'c-2', 'n-1']);
  });
});
