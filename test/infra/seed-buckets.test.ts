import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { handler } from '../../lambda/handlers/seed-buckets';
import { sendResponse } from '../../lambda/seeding/seed-buckets';
import {
  AWS_CLIENT_MAX_ATTEMPTS,
  type BucketDefinition,
  createBucketTable,
  SluiceClient,
  SluiceConfig,
} from '../../lambda/sluice';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { startSilentEndpoint } from '../worker/silent-endpoint';

/** Stands in for CloudFormation's pre-signed S3 URL: records each PUT, answers `status`. */
async function responseBucket(status = 200) {
  const received: { method?: string; contentType?: string; body: unknown }[] = [];
  const server: Server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk) => {
      text += chunk;
    });
    request.on('end', () => {
      received.push({
        method: request.method,
        contentType: request.headers['content-type'],
        body: JSON.parse(text),
      });
      response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/response?signature=x`;
  return { url, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const buckets: BucketDefinition[] = [
  { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 5, windowSeconds: 1 },
  { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 1, windowSeconds: 1 },
];

function event(
  requestType: 'Create' | 'Update' | 'Delete',
  url: string,
  definitions: unknown = JSON.stringify(buckets),
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:seeder',
    ResponseURL: url,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Sluice-dev/1',
    RequestId: 'request-1',
    LogicalResourceId: 'WorkerSeedingBuckets',
    ResourceType: 'Custom::SluiceBuckets',
    ResourceProperties: { ServiceToken: 'arn:seeder', BucketsJson: definitions },
  };
  if (requestType === 'Create') return { ...common, RequestType: 'Create' };
  const physical = { PhysicalResourceId: 'sluice-buckets-WorkerSeedingBuckets' };
  if (requestType === 'Delete') return { ...common, ...physical, RequestType: 'Delete' };
  return { ...common, ...physical, RequestType: 'Update', OldResourceProperties: common.ResourceProperties };
}

describe('the bucket-seeding handler', () => {
  const tableName = uniqueName('seed');
  const saved = { ...process.env };
  let bucket: Awaited<ReturnType<typeof responseBucket>>;
  let client: SluiceClient;

  beforeAll(async () => {
    const { dynamodb } = localEndpoints();
    await createBucketTable(new DynamoDBClient({ endpoint: dynamodb }), tableName);
    Object.assign(process.env, { SLUICE_TABLE_NAME: tableName, SLUICE_ENDPOINT_URL: dynamodb });
    client = new SluiceClient({ settings: SluiceConfig.fromEnv() });
  });
  beforeEach(async () => {
    bucket = await responseBucket();
  });
  afterEach(() => bucket.close());
  afterAll(() => {
    process.env = saved;
  });

  it('upserts the definitions on Create and answers SUCCESS with an empty content type', async () => {
    await handler(event('Create', bucket.url));
    expect(bucket.received).toEqual([
      {
        method: 'PUT',
        contentType: '',
        body: {
          Status: 'SUCCESS',
          PhysicalResourceId: 'sluice-buckets-WorkerSeedingBuckets',
          StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/Sluice-dev/1',
          RequestId: 'request-1',
          LogicalResourceId: 'WorkerSeedingBuckets',
          Data: { Buckets: '2' },
        },
      },
    ]);
    expect(await client.snapshot('waitwhile#rps')).toMatchObject({ capacity: 5, refillPerSecond: 5 });
    expect(await client.snapshot('waitwhile#location-writes#loc-1')).toMatchObject({ capacity: 1 });
  });

  it('applies a changed capacity on Update, under the same physical id', async () => {
    const changed = [{ ...buckets[0], capacity: 8, windowSeconds: 2 }, buckets[1]];
    await handler(event('Update', bucket.url, JSON.stringify(changed)));
    expect(bucket.received.map(({ body }) => body)).toEqual([
      expect.objectContaining({
        Status: 'SUCCESS',
        PhysicalResourceId: 'sluice-buckets-WorkerSeedingBuckets',
      }),
    ]);
    expect(await client.snapshot('waitwhile#rps')).toMatchObject({ capacity: 8, refillPerSecond: 4 });
  });

  it('leaves the table alone on Delete', async () => {
    await handler(event('Delete', bucket.url));
    expect(bucket.received.map(({ body }) => body)).toEqual([expect.objectContaining({ Status: 'SUCCESS' })]);
    expect(await client.snapshot('waitwhile#rps')).toMatchObject({ capacity: 8 });
  });

  it('answers FAILED with the reason instead of leaving CloudFormation waiting', async () => {
    await handler(event('Create', bucket.url, '{"not":"a list"}'));
    process.env.SLUICE_TABLE_NAME = '';
    await handler(event('Update', bucket.url));
    process.env.SLUICE_TABLE_NAME = tableName;
    expect(bucket.received.map(({ body }) => body)).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        Reason: 'Seeding buckets failed: property BucketsJson must be a JSON list of bucket definitions',
      }),
      expect.objectContaining({
        Status: 'FAILED',
        Reason:
          'Seeding buckets failed: Invalid Sluice configuration (1 problem):\n  SLUICE_TABLE_NAME: is required',
      }),
    ]);
  });

  it('answers FAILED, within the AWS client bounds, when DynamoDB accepts connections and never answers', async () => {
    const silent = await startSilentEndpoint();
    process.env.SLUICE_ENDPOINT_URL = silent.url;
    try {
      await handler(event('Update', bucket.url));
    } finally {
      process.env.SLUICE_ENDPOINT_URL = localEndpoints().dynamodb;
      await silent.close();
    }
    expect(bucket.received.map(({ body }) => body)).toEqual([
      expect.objectContaining({
        Status: 'FAILED',
        Reason: expect.stringMatching(/^Seeding buckets failed: DynamoDB is unavailable: /),
      }),
    ]);
    expect(silent.connections()).toBe(AWS_CLIENT_MAX_ATTEMPTS);
  }, 60_000);

  it('reports a response CloudFormation did not accept', async () => {
    const refusing = await responseBucket(403);
    await expect(
      sendResponse(refusing.url, {
        Status: 'SUCCESS',
        PhysicalResourceId: 'p',
        StackId: 's',
        RequestId: 'r',
        LogicalResourceId: 'l',
      }),
    ).rejects.toThrow('CloudFormation response rejected: HTTP 403');
    await refusing.close();
  });
});
