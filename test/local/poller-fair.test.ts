import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { EventSourcePoller } from '../../local/event-source/poller';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

/**
 * The local equivalent of SQS fair queues, on fauxqs: a standard queue there is one list in
 * send order and drops MessageGroupId, so the poller serves the groups fairly itself.
 */
const sqs = new SQSClient({ endpoint: localEndpoints().sqs, region: 'us-east-1' });
const VISIBILITY_TIMEOUT_SECONDS = 60;

async function queue(): Promise<string> {
  const created = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('poller-fair'),
      Attributes: { VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS) },
    }),
  );
  return created.QueueUrl ?? '';
}

/** Messages as the producer sends them: the product in the body and as the message group. */
async function send(queueUrl: string, product: string, count: number): Promise<void> {
  for (let start = 0; start < count; start += 10) {
    const ids = Array.from({ length: Math.min(10, count - start) }, (_, i) => `${product}-${start + i}`);
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: ids.map((id, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify({ id, product }),
          MessageGroupId: product,
        })),
      }),
    );
  }
}

async function depth(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

function poller(queueUrl: string, events: SQSEvent[], fair: boolean): EventSourcePoller {
  return new EventSourcePoller({
    sqs,
    queueUrl,
    queueArn: 'arn:aws:sqs:local:000000000000:poller-fair',
    handler: async (event) => {
      events.push(event);
      return { batchItemFailures: [] };
    },
    batchSize: 5,
    functionName: 'worker',
    timeoutSeconds: 10,
    waitTimeSeconds: 1,
    ...(fair
      ? { fairQueue: { lookaheadMessages: 50, visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_SECONDS } }
      : {}),
  });
}

/** Polls until a poll finds nothing: every message sent is then handed over and deleted. */
async function drain(p: EventSourcePoller): Promise<void> {
  while (await p.pollOnce()) {}
  await p.stop();
}

const idsOf = (event: SQSEvent) =>
  event.Records.map((record) => (JSON.parse(record.body) as { id: string }).id);
const productsOf = (event: SQSEvent) =>
  event.Records.map((record) => (JSON.parse(record.body) as { product: string }).product);

describe('the event source poller with the fair-queue equivalent', () => {
  it('without it, fauxqs hands a quiet product its messages only after the whole backlog ahead', async () => {
    const queueUrl = await queue();
    await send(queueUrl, 'batch', 30);
    await send(queueUrl, 'checkout', 3);
    const events: SQSEvent[] = [];
    await drain(poller(queueUrl, events, false));

    expect(events.map((event) => productsOf(event).includes('checkout'))).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
      true,
    ]);
  });

  it('hands the worker a quiet product’s messages in the first batches behind another’s backlog, each once, received once', async () => {
    const queueUrl = await queue();
    await send(queueUrl, 'batch', 30);
    await send(queueUrl, 'checkout', 3);
    const events: SQSEvent[] = [];
    await drain(poller(queueUrl, events, true));

    expect(
      events
        .slice(0, 2)
        .flatMap(productsOf)
        .filter((product) => product === 'checkout'),
    ).toHaveLength(3);
    expect(events.map(productsOf)[0]).toEqual(['batch', 'checkout', 'batch', 'checkout', 'batch']);
    for (const event of events) expect(new Set(idsOf(event)).size).toBe(event.Records.length);
    const delivered = events.flatMap(idsOf);
    expect(delivered).toHaveLength(33);
    expect(new Set(delivered).size).toBe(33);
    // Held, not peeked and put back: no receive spent toward the redrive policy.
    const counts = events.flatMap((event) => event.Records.map((r) => r.attributes.ApproximateReceiveCount));
    expect(new Set(counts)).toEqual(new Set(['1']));
    expect(await depth(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('drains a single product in full, in batches of batchSize', async () => {
    const queueUrl = await queue();
    await send(queueUrl, 'batch', 23);
    const events: SQSEvent[] = [];
    await drain(poller(queueUrl, events, true));

    expect(events.map((event) => event.Records.length)).toEqual([5, 5, 5, 5, 3]);
    expect(new Set(events.flatMap(idsOf)).size).toBe(23);
    expect(await depth(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('gives the messages it holds back to the queue when it stops', async () => {
    const queueUrl = await queue();
    await send(queueUrl, 'batch', 30);
    const events: SQSEvent[] = [];
    const p = poller(queueUrl, events, true);
    await p.pollOnce();
    expect(await depth(queueUrl)).toEqual({ visible: 0, inFlight: 25 });

    await p.stop();
    expect(await depth(queueUrl)).toEqual({ visible: 25, inFlight: 0 });
  });
});
