import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { createBucketTable } from '../../lambda/sluice';
import { type AwsClients, createAwsClients } from '../../lambda/worker/adapters/aws-clients';
import { type DerivedSettings, deadLetterQueueAttributes, queueAttributes } from '../../lib/derived-settings';
import { createOutcomeTopology, type OutcomeTopology } from '../outcomes/topology';
import { startDynamoDbLocal } from '../servers/dynamodb-local';
import { startFauxqs } from '../servers/fauxqs';
import type { LocalServer } from '../servers/process';
import { type DynamoDbUsage, meterDynamoDb } from './dynamodb-meter';

const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
export const LOCAL_REGION = 'us-east-1';

export interface LocalResources {
  /** The handlers' clients (DynamoDB metered), built as the deployed worker builds them. */
  readonly clients: AwsClients;
  /** Metered: the worker's and the reconciler's calls. */
  readonly dynamodb: DynamoDBClient;
  /** Not metered: seeding and the progress display, which a deployed stack does not pay per message. */
  readonly adminDynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly tableName: string;
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
  /** The work queue's redrive target, drained by the dead-letter relay into the DLQ. */
  readonly relayQueueUrl: string;
  readonly relayQueueArn: string;
  /** The outcome topic, bucket and one subscriber queue per product (when products are configured). */
  readonly outcomes?: OutcomeTopology;
  /** DynamoDB requests and capacity of every call made through `dynamodb`. */
  readonly dynamodbUsage: () => DynamoDbUsage;
}

export interface LocalStack extends LocalResources {
  /** Stops both servers; safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Starts DynamoDB Local and fauxqs on free loopback ports and creates the bucket table and
 * both queues with the attributes the CDK stack gives them (lib/config.ts derives both).
 */
export async function startLocalStack(options: {
  readonly derived: DerivedSettings;
  readonly names?: { readonly table?: string; readonly queue?: string };
  /** Products whose outcome queues to create (the configuration's `products`). */
  readonly products?: readonly string[];
}): Promise<LocalStack> {
  const servers: LocalServer[] = [];
  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= Promise.all(servers.map((server) => server.stop())).then(() => undefined);
    return stopped;
  };
  try {
    const started = await Promise.allSettled([startDynamoDbLocal(), startFauxqs()]);
    for (const result of started) if (result.status === 'fulfilled') servers.push(result.value);
    const failure = started.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
    const [dynamo, sqs] = servers as [LocalServer, LocalServer];
    const resources = await createResources({
      dynamodbEndpoint: dynamo.endpoint,
      sqsEndpoint: sqs.endpoint,
      derived: options.derived,
      tableName: options.names?.table ?? 'sluice-local-buckets',
      queueName: options.names?.queue ?? 'sluice-local-work',
      ...(options.products ? { products: options.products } : {}),
    });
    return { ...resources, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Creates the table and queues on servers that already run (the tests' shared servers). */
export async function createResources(options: {
  readonly dynamodbEndpoint: string;
  readonly sqsEndpoint: string;
  readonly derived: DerivedSettings;
  readonly tableName: string;
  readonly queueName: string;
  readonly products?: readonly string[];
}): Promise<LocalResources> {
  // Local servers accept any credentials; the SDK only needs some to sign with.
  process.env.AWS_ACCESS_KEY_ID ??= LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= LOCAL_CREDENTIALS.secretAccessKey;
  // The handlers' clients as the deployed worker builds them: capped attempts, request timeouts.
  const clients = createAwsClients({
    region: LOCAL_REGION,
    dynamodbEndpoint: options.dynamodbEndpoint,
    sqsEndpoint: options.sqsEndpoint,
    // fauxqs serves SNS and S3 on the SQS endpoint.
    outcomeEndpoint: options.sqsEndpoint,
  });
  const { dynamodb, sqs } = clients;
  const dynamodbUsage = meterDynamoDb(dynamodb);
  const adminDynamodb = new DynamoDBClient({
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    endpoint: options.dynamodbEndpoint,
  });
  await createBucketTable(adminDynamodb, options.tableName);
  const dlq = await createQueue(sqs, `${options.queueName}-dlq`, deadLetterQueueAttributes(options.derived));
  // As in the CDK stack: SQS's redrive goes to the relay, which names the reason and publishes the outcome.
  const relay = await createQueue(sqs, `${options.queueName}-relay`, {
    ...deadLetterQueueAttributes(options.derived),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 }),
  });
  const queue = await createQueue(sqs, options.queueName, queueAttributes(options.derived, relay.arn));
  const products = options.products ?? [];
  const outcomes =
    products.length > 0
      ? await createOutcomeTopology(
          { sns: clients.sns, sqs, s3: clients.s3 },
          { topic: `${options.queueName}-outcomes`, bucket: `${options.queueName}-outcome-bodies`, products },
        )
      : undefined;
  return {
    clients,
    dynamodb,
    adminDynamodb,
    sqs,
    dynamodbEndpoint: options.dynamodbEndpoint,
    sqsEndpoint: options.sqsEndpoint,
    tableName: options.tableName,
    queueUrl: queue.url,
    queueArn: queue.arn,
    dlqUrl: dlq.url,
    dlqArn: dlq.arn,
    relayQueueUrl: relay.url,
    relayQueueArn: relay.arn,
    ...(outcomes ? { outcomes } : {}),
    dynamodbUsage,
  };
}

async function createQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  const url = created.QueueUrl ?? '';
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: Attributes?.QueueArn ?? '' };
}

export interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
  readonly delayed: number;
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<QueueDepth> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return {
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}
