import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createLambdaContext } from '../../local/event-source/lambda-context';
import { EventSourcePoller, type SqsHandler } from '../../local/event-source/poller';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

const sqs = new SQSClient({ endpoint: localEndpoints().sqs, region: 'us-east-1' });

async function queueWithDlq(visibilityTimeoutSeconds: number, maxReceiveCount = 5) {
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('poller-dlq') }));
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl, AttributeNames: ['QueueArn'] }))
  ).Attributes?.QueueArn;
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: uniqueName('poller'),
      Attributes: {
        VisibilityTimeout: String(visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount }),
      },
    }),
  );
  return { queueUrl: queue.QueueUrl ?? '', dlqUrl: dlq.QueueUrl ?? '' };
}

async function send(queueUrl: string, bodies: string[]): Promise<void> {
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: bodies.map((body, index) => ({
        Id: String(index),
        MessageBody: body,
        MessageAttributes: { 'sluice-attempt': { DataType: 'Number', StringValue: '1' } },
      })),
    }),
  );
}

async function counts(queueUrl: string): Promise<{ visible: number; inFlight: number }> {
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

function poller(queueUrl: string, handler: SqsHandler, timeoutSeconds = 30): EventSourcePoller {
  return new EventSourcePoller({
    sqs,
    queueUrl,
    queueArn: 'arn:aws:sqs:local:000000000000:poller',
    handler,
    batchSize: 10,
    functionName: 'worker',
    timeoutSeconds,
    waitTimeSeconds: 3,
  });
}

const bodiesOf = (event: SQSEvent) => event.Records.map((record) => record.body).sort();

describe('the event source poller', () => {
  it('hands the handler a Lambda-shaped batch with the message attributes and receive count', async () => {
    const { queueUrl } = await queueWithDlq(30);
    await send(queueUrl, ['a', 'b']);
    const events: SQSEvent[] = [];
    await poller(queueUrl, async (event) => {
      events.push(event);
      return { batchItemFailures: [] };
    }).pollOnce();

    expect(events.map(bodiesOf)).toEqual([['a', 'b']]);
    const record = events[0]?.Records[0];
    expect(record?.eventSource).toBe('aws:sqs');
    expect(record?.attributes.ApproximateReceiveCount).toBe('1');
    expect(record?.messageAttributes['sluice-attempt']).toEqual({
      dataType: 'Number',
      stringValue: '1',
      stringListValues: [],
      binaryListValues: [],
    });
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 0 });
  });

  it('deletes the successes of a partial batch and leaves only the failed message to reappear', async () => {
    const { queueUrl } = await queueWithDlq(1);
    await send(queueUrl, ['keep', 'done-1', 'done-2']);
    const invocation = await poller(queueUrl, async (event) => ({
      batchItemFailures: event.Records.filter((r) => r.body === 'keep').map((r) => ({
        itemIdentifier: r.messageId,
      })),
    })).pollOnce();

    expect(invocation?.outcome).toBe('partial');
    expect(invocation?.failedIds).toHaveLength(1);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 1 });

    // The long poll returns once the visibility timeout (1 s) has passed.
    const again = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        WaitTimeSeconds: 5,
        MessageSystemAttributeNames: ['All'],
      }),
    );
    expect(again.Messages?.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([
      ['keep', '2'],
    ]);
  });

  it('leaves the whole batch when the handler throws', async () => {
    const { queueUrl } = await queueWithDlq(30);
    await send(queueUrl, ['x', 'y']);
    const invocation = await poller(queueUrl, async () => {
      throw new Error('vendor client exploded');
    }).pollOnce();

    expect(invocation).toEqual({
      messageIds: invocation?.messageIds,
      failedIds: invocation?.messageIds,
      outcome: 'error',
      error: 'vendor client exploded',
    });
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 2 });
  });

  it('fails the whole batch when batchItemFailures names a message that is not in it', async () => {
    const { queueUrl } = await queueWithDlq(30);
    await send(queueUrl, ['x']);
    const invocation = await poller(queueUrl, async () => ({
      batchItemFailures: [{ itemIdentifier: 'not-a-message' }],
    })).pollOnce();

    expect(invocation?.outcome).toBe('error');
    expect(invocation?.error).toBe(
      'batchItemFailures names "not-a-message", which is not in the batch: the whole batch fails',
    );
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 1 });
  });

  it('gives up on an abandoned invocation without deleting anything or waiting for the handler', async () => {
    const { queueUrl } = await queueWithDlq(30);
    await send(queueUrl, ['dies']);
    const p = poller(queueUrl, () => {
      p.abandonCurrentInvocation('worker died between acquire and release');
      return new Promise(() => {}); // never settles: no finally runs, as after a crash
    });
    const invocation = await p.pollOnce();

    expect(invocation?.outcome).toBe('abandoned');
    expect(invocation?.error).toBe('worker died between acquire and release');
    expect(p.inFlight).toBe(0);
    expect(await counts(queueUrl)).toEqual({ visible: 0, inFlight: 1 });
  });

  it('lets the queue redrive a message to the DLQ after maxReceiveCount failed invocations', async () => {
    const { queueUrl, dlqUrl } = await queueWithDlq(0, 2);
    await send(queueUrl, ['poison']);
    const p = poller(queueUrl, async () => {
      throw new Error('always fails');
    });
    const outcomes = [await p.pollOnce(), await p.pollOnce(), await p.pollOnce()].map((i) => i?.outcome);

    expect(outcomes).toEqual(['error', 'error', undefined]);
    expect(await counts(dlqUrl)).toEqual({ visible: 1, inFlight: 0 });
  });
});

describe('the Lambda-like context', () => {
  it('counts the remaining time down from the configured timeout and never below zero', () => {
    let nowMs = 1_000_000;
    const context = createLambdaContext({ functionName: 'worker', timeoutSeconds: 60, nowMs: () => nowMs });
    const seen = [context.getRemainingTimeInMillis()];
    nowMs += 12_345;
    seen.push(context.getRemainingTimeInMillis());
    nowMs += 60_000;
    seen.push(context.getRemainingTimeInMillis());

    expect(seen).toEqual([60_000, 47_655, 0]);
    expect(context.functionName).toBe('worker');
  });
});
