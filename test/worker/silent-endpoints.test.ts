import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { PublishCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { Metric, SLOT_MARGIN_SECONDS } from '../../lambda/contract';
import { handler as reconcilerHandler } from '../../lambda/handlers/reconciler';
import { handler as workerHandler } from '../../lambda/handlers/worker';
import { enqueue } from '../../lambda/producer';
import {
  AWS_CALL_WORST_CASE_MS,
  AWS_CLIENT_MAX_ATTEMPTS,
  createBucketTable,
  SluiceClient,
  SluiceConfig,
} from '../../lambda/sluice';
import {
  type AwsClients,
  createAwsClients,
  destroyAwsClients,
} from '../../lambda/worker/adapters/aws-clients';
import { readWorkerConfig } from '../../lambda/worker/config';
import { wireWorker } from '../../lambda/worker/wire';
import { createLambdaContext } from '../../local/event-source/lambda-context';
import { toRecord } from '../../local/event-source/poller';
import { startVendorSimulator, type VendorSimulator } from '../../local/simulator';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { RecordingTelemetry } from './recording-telemetry';
import { type SilentEndpoint, startSilentEndpoint } from './silent-endpoint';

/**
 * Every AWS client the runtime builds, and the handlers built on them, pointed at an endpoint
 * that accepts connections and never answers. Without `throwOnRequestTimeout` the AWS SDK only
 * logs a warning when the request timeout passes, and each of these waits for ever (the Jest
 * timeout then fails the test). No assertion is on elapsed time: each test waits for the
 * rejection or the answer, and checks what it is. Needs real sockets and the real AWS clients:
 * what is proved is their timeouts, which no memory port has.
 */

const REGION = 'us-east-1';
const GENEROUS_MS = 60_000;

let silent: SilentEndpoint;
beforeEach(async () => {
  silent = await startSilentEndpoint();
});
afterEach(() => silent.close());

describe('the AWS clients fail a silent endpoint within bounds', () => {
  it('bounds one call (every attempt timing out) inside the margin between the slot deadline and the Lambda timeout', () => {
    expect(AWS_CALL_WORST_CASE_MS).toBeLessThan(SLOT_MARGIN_SECONDS * 1000);
  });

  const calls: Record<keyof AwsClients, (clients: AwsClients) => Promise<unknown>> = {
    dynamodb: (clients) =>
      clients.dynamodb.send(
        new GetItemCommand({ TableName: 't', Key: { vendor_dimension: { S: 'openai#rpm' } } }),
      ),
    sqs: (clients) =>
      clients.sqs.send(
        new SendMessageCommand({ QueueUrl: `${silent.url}/000000000000/q`, MessageBody: '{}' }),
      ),
    secretsManager: (clients) => clients.secretsManager.send(new GetSecretValueCommand({ SecretId: 's' })),
    sns: (clients) =>
      clients.sns.send(
        new PublishCommand({ TopicArn: 'arn:aws:sns:us-east-1:000000000000:outcomes', Message: '{}' }),
      ),
    s3: (clients) => clients.s3.send(new PutObjectCommand({ Bucket: 'outcomes', Key: 'k', Body: 'x' })),
  };

  it.each(Object.keys(calls) as (keyof AwsClients)[])(
    '%s rejects with a TimeoutError after the capped attempts',
    async (which) => {
      const clients = createAwsClients({
        region: REGION,
        dynamodbEndpoint: silent.url,
        sqsEndpoint: silent.url,
        secretsManagerEndpoint: silent.url,
        outcomeEndpoint: silent.url,
      });
      const error = (await calls[which](clients).catch((e: unknown) => e)) as {
        name?: string;
        $metadata?: { attempts?: number };
      };
      destroyAwsClients(clients);
      expect([error.name, error.$metadata?.attempts, silent.connections()]).toEqual([
        'TimeoutError',
        AWS_CLIENT_MAX_ATTEMPTS,
        AWS_CLIENT_MAX_ATTEMPTS,
      ]);
    },
    GENEROUS_MS,
  );

  it(
    "the SDK's own DynamoDB client (a SluiceClient built without one) fails as unavailable after the capped attempts",
    async () => {
      const settings = SluiceConfig.fromEnv({ tableName: 't', endpointUrl: silent.url, region: REGION }, {});
      const sluice = new SluiceClient({ settings });
      const error = (await sluice.acquire('openai#rpm').catch((e: unknown) => e)) as {
        name?: string;
        reason?: string;
      };
      expect([error.name, error.reason, silent.connections()]).toEqual([
        'SluiceStoreError',
        'unavailable',
        AWS_CLIENT_MAX_ATTEMPTS,
      ]);
    },
    GENEROUS_MS,
  );
});

/** A work queue and DLQ on fauxqs, a table on DynamoDB Local, the vendor simulator. */
async function realServers() {
  const endpoints = localEndpoints();
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
  const sqs = new SQSClient({ endpoint: endpoints.sqs, region: REGION });
  const tableName = uniqueName('silent');
  await createBucketTable(dynamodb, tableName);
  const queueUrl =
    (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('silent') }))).QueueUrl ?? '';
  const dlqUrl =
    (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('silent-dlq') }))).QueueUrl ?? '';
  const simulator: VendorSimulator = await startVendorSimulator({ profile: 'sweeppea', latencyMs: 1 });
  const settings = SluiceConfig.fromEnv({ tableName, endpointUrl: endpoints.dynamodb, region: REGION }, {});
  const sluice = new SluiceClient({ settings, dynamodb });
  await sluice.upsertBuckets([{ dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 }]);
  /** The environment the CDK sets, with each endpoint chosen by the test. */
  const env = (dynamodbEndpoint: string, sqsEndpoint: string): NodeJS.ProcessEnv => ({
    SLUICE_TABLE_NAME: tableName,
    SLUICE_AWS_REGION: REGION,
    SLUICE_ENDPOINT_URL: dynamodbEndpoint,
    SLUICE_SQS_ENDPOINT_URL: sqsEndpoint,
    SLUICE_QUEUE_URL: queueUrl,
    SLUICE_DLQ_URL: dlqUrl,
    SLUICE_VENDOR_SECRET_ARN: 'sluice/sweeppea/api-key',
    SLUICE_LAMBDA_TIMEOUT: '30',
    SLUICE_MAX_RECEIVE_COUNT: '10',
    SLUICE_LOG_LEVEL: 'ERROR',
    SLUICE_VENDOR_SETTINGS: JSON.stringify({
      name: 'sweeppea',
      baseUrl: simulator.url,
      operations: {
        createContact: { method: 'POST', path: '/v1/contacts', dimensions: { 'sweeppea#concurrent': 1 } },
      },
    }),
  });
  const receive = async (): Promise<SQSEvent> => {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    return { Records: Messages.map((m: Message) => toRecord(m, 'arn:aws:sqs:local:0:silent', REGION)) };
  };
  return {
    endpoints,
    sqs,
    sluice,
    queueUrl,
    env,
    receive,
    apiKey: simulator.apiKey,
    stop: async () => {
      await simulator.stop();
      sqs.destroy();
      dynamodb.destroy();
    },
  };
}

const context = () => createLambdaContext({ functionName: 'worker', timeoutSeconds: 30 });

describe('the handlers end against a silent endpoint', () => {
  it(
    'the worker entry point reports every record of the batch when DynamoDB never answers',
    async () => {
      const servers = await realServers();
      const saved = { ...process.env };
      try {
        await enqueue(servers.sqs, servers.queueUrl, [
          { id: 'a', operation: 'createContact', body: { email: 'a@example.com' } },
          { id: 'b', operation: 'createContact', body: { email: 'b@example.com' } },
        ]);
        const event = await servers.receive();
        expect(event.Records).toHaveLength(2);
        Object.assign(process.env, servers.env(silent.url, servers.endpoints.sqs));
        const response = await workerHandler(event, context());
        expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
          event.Records.map((record) => record.messageId).sort(),
        );
      } finally {
        process.env = saved;
        await servers.stop();
      }
    },
    GENEROUS_MS,
  );

  it(
    'the worker releases the slot and reports the record when Secrets Manager never answers',
    async () => {
      const servers = await realServers();
      const clients = createAwsClients({
        region: REGION,
        dynamodbEndpoint: servers.endpoints.dynamodb,
        sqsEndpoint: servers.endpoints.sqs,
        secretsManagerEndpoint: silent.url,
      });
      try {
        const telemetry = new RecordingTelemetry();
        // No apiKey override: the key is read from the (silent) Secrets Manager, after the grant.
        const handler = wireWorker(
          readWorkerConfig(servers.env(servers.endpoints.dynamodb, servers.endpoints.sqs)),
          {
            clients,
            telemetry,
          },
        );
        await enqueue(servers.sqs, servers.queueUrl, [
          { id: 'c', operation: 'createContact', body: { email: 'c@example.com' } },
        ]);
        const event = await servers.receive();
        const response = await handler(event, context());
        expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
        expect(telemetry.countOf(Metric.grants)).toBe(1);
        expect(telemetry.fieldsOf('message.failed').map((fields) => fields.error_name)).toEqual([
          'TimeoutError',
        ]);
        expect(telemetry.countOf(Metric.messageFailures)).toBe(1);
        // The slot the grant took was given back before the record was reported.
        expect((await servers.sluice.snapshot('sweeppea#concurrent')).leases).toBe(0);
        expect(silent.connections()).toBe(AWS_CLIENT_MAX_ATTEMPTS);
      } finally {
        destroyAwsClients(clients);
        await servers.stop();
      }
    },
    GENEROUS_MS,
  );

  it(
    'the worker reports the record when SQS never answers its dead-letter send',
    async () => {
      const servers = await realServers();
      const clients = createAwsClients({
        region: REGION,
        dynamodbEndpoint: servers.endpoints.dynamodb,
        sqsEndpoint: silent.url,
      });
      try {
        const telemetry = new RecordingTelemetry();
        const handler = wireWorker(readWorkerConfig(servers.env(servers.endpoints.dynamodb, silent.url)), {
          clients,
          telemetry,
          apiKey: async () => servers.apiKey,
        });
        // An invalid message goes to the DLQ at once: the send meets the silent endpoint.
        await servers.sqs.send(
          new SendMessageCommand({ QueueUrl: servers.queueUrl, MessageBody: '{"id":"x"}' }),
        );
        const event = await servers.receive();
        const response = await handler(event, context());
        expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
        expect(telemetry.fieldsOf('message.failed').map((fields) => fields.error_name)).toEqual([
          'TimeoutError',
        ]);
      } finally {
        destroyAwsClients(clients);
        await servers.stop();
      }
    },
    GENEROUS_MS,
  );

  it(
    'the reconciler entry point fails its run with the store unavailable',
    async () => {
      const saved = { ...process.env };
      Object.assign(process.env, {
        SLUICE_TABLE_NAME: 'silent-table',
        SLUICE_AWS_REGION: REGION,
        SLUICE_ENDPOINT_URL: silent.url,
        SLUICE_LOG_LEVEL: 'ERROR',
      });
      try {
        const error = (await reconcilerHandler().catch((e: unknown) => e)) as {
          name?: string;
          reason?: string;
        };
        expect([error.name, error.reason]).toEqual(['SluiceStoreError', 'unavailable']);
        expect(silent.connections()).toBe(AWS_CLIENT_MAX_ATTEMPTS);
      } finally {
        process.env = saved;
      }
    },
    GENEROUS_MS,
  );
});
