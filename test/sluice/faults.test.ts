import { createServer, type Server, type Socket } from 'node:net';
import { buildDynamoDbClient, SluiceClient } from '../../lambda/sluice/client';
import { fullBucket } from '../../lambda/sluice/core/bucket-math';
import type { BucketWrite } from '../../lambda/sluice/core/writes';
import { isSluiceStoreError } from '../../lambda/sluice/errors';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { DynamoBucketStore } from '../../lambda/sluice/store/dynamo-store';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { freePort } from '../../local/servers/free-port';
import { localEndpoints } from '../setup/local-endpoints';
import { DEFINITIONS } from './fixtures';
import { localTable, memoryClient, RecordingLogger, testSettings } from './helpers';

/** Faults no real server produces on demand: a closed port, a silent server, throttling. */
describe('store failures become typed errors after bounded retries', () => {
  it('reports a closed port as SluiceStoreError("unavailable")', async () => {
    const port = await freePort();
    const client = new SluiceClient({
      settings: testSettings({
        tableName: 't',
        endpointUrl: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
      }),
      logger: new RecordingLogger(),
    });
    const error = await client.acquire('openai#rpm').catch((e: unknown) => e);
    client.close();
    expect(
      isSluiceStoreError(error) && [error.reason, error.message.startsWith('DynamoDB is unavailable: ')],
    ).toEqual(['unavailable', true]);
  }, 20_000);

  it('reports a server that accepts connections but never answers as "unavailable", within the request timeouts', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const dynamodb = buildDynamoDbClient({ endpointUrl: `http://127.0.0.1:${port}`, region: 'us-east-1' });
    const error = await new DynamoBucketStore(dynamodb, 't').get('openai').catch((e: unknown) => e);
    dynamodb.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    expect(isSluiceStoreError(error) && error.reason).toBe('unavailable');
  }, 30_000);

  it('reports a number DynamoDB cannot encode as the mistake it is, not as "DynamoDB is unavailable"', async () => {
    const { dynamodb, store } = await localTable('sdk-encode');
    const bucket = fullBucket(
      { limitType: 'requests', capacityMilli: 2 ** 60, windowMs: 60_000, costPerCall: 1 },
      0,
    );
    const error = await store
      .create({ pk: 'openai', version: 1, buckets: { rpm: bucket }, templates: {}, writers: {} })
      .catch((e: unknown) => e);
    dynamodb.destroy();
    expect([isSluiceStoreError(error), (error as Error).message]).toEqual([
      false,
      expect.stringContaining('MAX_SAFE_INTEGER'),
    ]);
  });

  it('reports an item that kept changing under every conditional write as "contended", not "throttled"', async () => {
    const inner = new MemoryBucketStore();
    // Another writer lands between every read and write of this client.
    const busy: BucketStore = Object.assign(Object.create(inner) as MemoryBucketStore, {
      write: async (write: BucketWrite) => {
        const current = await inner.get(write.pk);
        if (current) await inner.write({ pk: write.pk, expectedVersion: current.version });
        return inner.write(write);
      },
    });
    const { client } = memoryClient({ store: busy });
    await client.upsertBuckets(DEFINITIONS).catch(() => undefined);
    await inner
      .create({ pk: 'openai', version: 1, buckets: {}, templates: {}, writers: {} })
      .catch(() => undefined);
    const error = await client.penalize('openai#rpm').catch((e: unknown) => e);
    expect(isSluiceStoreError(error) && [error.reason, error.message]).toEqual([
      'contended',
      'item openai kept changing under 10 conditional writes; giving up',
    ]);
  });

  it('retries throttling a bounded number of times, then reports SluiceStoreError("throttled")', async () => {
    const { tableName } = await localTable('sdk-throttle');
    const dynamodb = buildDynamoDbClient({ endpointUrl: localEndpoints().dynamodb, region: 'us-east-1' });
    let attempts = 0;
    // Inside the retry loop (deserialize step), as a throttled answer from the service would be.
    dynamodb.middlewareStack.add(
      () => async () => {
        attempts++;
        throw Object.assign(new Error('Rate of requests exceeds the allowed throughput.'), {
          name: 'ThrottlingException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      },
      { step: 'deserialize', name: 'injectThrottling', priority: 'low' },
    );
    const error = await new DynamoBucketStore(dynamodb, tableName).get('openai').catch((e: unknown) => e);
    dynamodb.destroy();
    expect(isSluiceStoreError(error) && [error.reason, error.message]).toEqual([
      'throttled',
      'DynamoDB kept throttling after bounded retries: ThrottlingException',
    ]);
    expect(attempts).toBe(2);
  }, 30_000);
});
