import { createServer, type Server, type Socket } from 'node:net';
import { buildDynamoDbClient, SluiceClient } from '../../lambda/sluice/client';
import { DynamoBucketStore } from '../../lambda/sluice/dynamo-store';
import { isSluiceStoreError } from '../../lambda/sluice/errors';
import { freePort } from '../../local/servers/free-port';
import { localEndpoints } from '../setup/local-endpoints';
import { localTable, RecordingLogger, testSettings } from './helpers';

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
