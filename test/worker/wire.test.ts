import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { enqueue } from '../../lambda/producer';
import { createBucketTable, SluiceClient, SluiceConfig } from '../../lambda/sluice';
import { readWorkerConfig } from '../../lambda/worker/config';
import { wireWorker } from '../../lambda/worker/wire';
import { createLambdaContext } from '../../local/event-source/lambda-context';
import { toRecord } from '../../local/event-source/poller';
import { startVendorSimulator } from '../../local/simulator';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { RecordingTelemetry } from './recording-telemetry';

/**
 * The worker as its Lambda builds it (`wireWorker` from the environment the CDK sets): the real
 * AWS clients on DynamoDB Local and fauxqs. Needs the servers because what it proves is the
 * wiring itself (every port on its real adapter); the pipeline behind it runs on memory ports
 * in the worker's unit tests.
 */

const REGION = 'us-east-1';

describe('the worker wired from its environment', () => {
  it('reads the environment the CDK sets and completes a message on the local servers', async () => {
    const endpoints = localEndpoints();
    const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb, region: REGION });
    const sqs = new SQSClient({ endpoint: endpoints.sqs, region: REGION });
    const simulator = await startVendorSimulator({ profile: 'sweeppea', latencyMs: 1 });
    try {
      const tableName = uniqueName('wired');
      await createBucketTable(dynamodb, tableName);
      const queueUrl =
        (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('wired') }))).QueueUrl ?? '';
      const dlqUrl =
        (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('wired-dlq') }))).QueueUrl ?? '';
      const env = {
        SLUICE_TABLE_NAME: tableName,
        SLUICE_AWS_REGION: REGION,
        SLUICE_ENDPOINT_URL: endpoints.dynamodb,
        SLUICE_SQS_ENDPOINT_URL: endpoints.sqs,
        SLUICE_QUEUE_URL: queueUrl,
        SLUICE_DLQ_URL: dlqUrl,
        SLUICE_VENDOR_SECRET_ARN: 'sluice/sweeppea/api-key',
        SLUICE_LAMBDA_TIMEOUT: '30',
        SLUICE_MAX_RECEIVE_COUNT: '10',
        SLUICE_VENDOR_SETTINGS: JSON.stringify({
          name: 'sweeppea',
          baseUrl: simulator.url,
          operations: {
            createContact: { method: 'POST', path: '/v1/contacts', dimensions: { 'sweeppea#concurrent': 1 } },
          },
        }),
      };
      const config = readWorkerConfig(env);
      const sluice = new SluiceClient({ settings: SluiceConfig.fromEnv({}, env), dynamodb });
      await sluice.upsertBuckets([
        { dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 },
      ]);
      const telemetry = new RecordingTelemetry();
      // No Secrets Manager locally: the key is handed in, as the local stack does.
      const handler = wireWorker(config, { apiKey: async () => simulator.apiKey, telemetry });
      await enqueue(sqs, queueUrl, [
        { id: 'contact-1', operation: 'createContact', body: { email: 'a@example.com' } },
      ]);
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MessageAttributeNames: ['All'],
          MessageSystemAttributeNames: ['All'],
        }),
      );
      const context = createLambdaContext({ functionName: 'worker', timeoutSeconds: 30 });
      const response = await handler(
        { Records: Messages.map((m) => toRecord(m, 'arn:aws:sqs:local:0:wired', REGION)) },
        context,
      );
      expect(response).toEqual({ batchItemFailures: [] });
      expect(telemetry.fieldsOf('message.completed')).toEqual([
        {
          id: 'contact-1',
          operation: 'createContact',
          attempt: 0,
          age_seconds: expect.any(Number),
          cached: false,
        },
      ]);
      expect(simulator.stats().completions).toBe(1);
      expect((await sluice.snapshot('sweeppea#concurrent')).leases).toBe(0);
      expect(telemetry.flushes).toBe(1);
    } finally {
      await simulator.stop();
      sqs.destroy();
      dynamodb.destroy();
    }
  });
});
