import { CreateBucketCommand, GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateTopicCommand, type SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { OutcomeAttr } from '../../lambda/contract';
import { type OutcomeEvent, parseOutcomeEvent } from '../../lambda/producer/outcome';

/**
 * The outcome fan-out on fauxqs, as the CDK builds it in AWS (lib/constructs/outcomes.ts): one
 * SNS topic, one S3 bucket for claim-checked bodies, and per product an SQS queue subscribed
 * with raw delivery and a filter policy on the `product` message attribute.
 */
export interface OutcomeTopology {
  readonly topicArn: string;
  readonly bucket: string;
  /** Each product's subscriber queue URL. */
  readonly queues: Readonly<Record<string, string>>;
}

export async function createOutcomeTopology(
  clients: { readonly sns: SNSClient; readonly sqs: SQSClient; readonly s3: S3Client },
  names: { readonly topic: string; readonly bucket: string; readonly products: readonly string[] },
): Promise<OutcomeTopology> {
  const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: names.topic }));
  if (!TopicArn) throw new Error(`fauxqs created topic ${names.topic} without an ARN`);
  await clients.s3.send(new CreateBucketCommand({ Bucket: names.bucket }));
  const queues: Record<string, string> = {};
  for (const product of names.products) {
    queues[product] = await subscribeProductQueue(clients, TopicArn, product, `${names.topic}-${product}`);
  }
  return { topicArn: TopicArn, bucket: names.bucket, queues };
}

/** A queue for one product's outcomes: raw delivery, filtered on the product attribute. */
export async function subscribeProductQueue(
  clients: { readonly sns: SNSClient; readonly sqs: SQSClient },
  topicArn: string,
  product: string,
  queueName: string,
): Promise<string> {
  const { QueueUrl } = await clients.sqs.send(new CreateQueueCommand({ QueueName: queueName }));
  if (!QueueUrl) throw new Error(`fauxqs created queue ${queueName} without a URL`);
  const { Attributes = {} } = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }),
  );
  await clients.sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: Attributes.QueueArn,
      Attributes: {
        RawMessageDelivery: 'true',
        FilterPolicy: JSON.stringify({ [OutcomeAttr.product]: [product] }),
      },
    }),
  );
  return QueueUrl;
}

/** Reads and deletes what one product's queue holds now (one receive of up to 10). */
export async function receiveOutcomes(sqs: SQSClient, queueUrl: string): Promise<OutcomeEvent[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  if (Messages.length === 0) return [];
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: Messages.map((message, index) => ({
        Id: String(index),
        ReceiptHandle: message.ReceiptHandle,
      })),
    }),
  );
  return Messages.map((message) => parseOutcomeEvent(message.Body ?? ''));
}

/** The bytes of a claim-checked body. */
export async function readClaimCheckedBody(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const { Body } = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return Buffer.from(await Body.transformToByteArray());
}
