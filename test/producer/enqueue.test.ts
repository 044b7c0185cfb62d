import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
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
        'Invalid message(s), nothing was sent: message 2: operation: Invalid input: expected string, received number (got 7)',
        [],
      ),
    );
    expect(await drain(queueUrl)).toEqual([]);
  });

  it('does not retry what a retry cannot fix: a missing queue fails at once, naming every message', async () => {
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
        sleep: async (ms) => {
          sleeps.push(ms);
        },
      },
    );
    await expect(attempt).rejects.toThrow(
      /^Could not enqueue 2 of 2 message\(s\) after a failure a retry cannot fix: QueueDoesNotExist: .+ \(2 messages: a, b\)$/,
    );
    expect(sleeps).toEqual([]);
  });

  it('refuses a message too big for SQS before sending anything', async () => {
    const queueUrl = await createQueue();
    await expect(
      enqueue(sqs, queueUrl, [{ id: 'big', operation: 'x', body: { text: 'x'.repeat(300_000) } }]),
    ).rejects.toThrow(
      /^Invalid message\(s\), nothing was sent: message 1: \(message\): is 300\d{3} bytes as JSON, over the 262016 bytes SQS takes/,
    );
    expect(await drain(queueUrl)).toEqual([]);
  });

  describe('behind a proxy that answers 500 to the first requests', () => {
    let proxy: Server;
    let failuresLeft = 0;
    let proxyUrl = '';
    beforeAll(async () => {
      const target = new URL(localEndpoints().sqs);
      proxy = createServer((incoming, outgoing) => {
        if (failuresLeft > 0) {
          failuresLeft -= 1;
          outgoing.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          outgoing.end(JSON.stringify({ __type: 'InternalError', message: 'injected by the test proxy' }));
          return;
        }
        const forwarded = request(
          {
            host: target.hostname,
            port: target.port,
            path: incoming.url,
            method: incoming.method,
            headers: incoming.headers,
          },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        incoming.pipe(forwarded);
      });
      await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
      proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise((resolve) => proxy.close(resolve)));

    it('retries a server fault with backoff until the batch is on the queue', async () => {
      const queueUrl = await createQueue();
      // The SDK's own retries off, so the helper's retries are what is tested.
      const direct = new SQSClient({ endpoint: proxyUrl, region: 'us-east-1', maxAttempts: 1 });
      failuresLeft = 2;
      const sleeps: number[] = [];
      const report = await enqueue(
        direct,
        queueUrl,
        [
          { id: 'a', operation: 'x' },
          { id: 'b', operation: 'x' },
        ],
        {
          maxRetries: 3,
          random: () => 0.5,
          sleep: async (ms) => {
            sleeps.push(ms);
          },
        },
      );
      direct.destroy();
      expect(report).toEqual({ sent: 2, retried: 4 });
      expect(sleeps).toEqual([50, 100]);
      expect((await drain(queueUrl)).map((message) => (message.body as { id: string }).id).sort()).toEqual([
        'a',
        'b',
      ]);
    });
  });
});
