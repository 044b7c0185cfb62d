import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbIdempotencyStore } from '../../lambda/idempotency/dynamo-store';
import { createBucketTable } from '../../lambda/sluice';
import { FaultProxy } from '../faults/fault-proxy';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';
import { countingOwners, describeIdempotencyContract } from './contract';

describeIdempotencyContract('DynamoDB Local', async () => {
  const dynamodb = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: 'us-east-1' });
  const tableName = uniqueName('idem-contract');
  await createBucketTable(dynamodb, tableName);
  return {
    store: new DynamoDbIdempotencyStore(dynamodb, tableName, countingOwners()),
    done: async () => dynamodb.destroy(),
  };
});

describe('claims whose answer was lost', () => {
  const T0 = 1_700_000_000_000;
  const owners = () => {
    let next = 0;
    return () => `owner-${++next}`;
  };

  it.each([
    ['several claims in one request', 'BatchExecuteStatement'],
    ['one claim', 'PutItem'],
  ] as const)(
    '%s: the AWS SDK sends it again, and the claims are recognised as ours',
    async (_, operation) => {
      const proxy = await FaultProxy.start(localEndpoints().dynamodb);
      const direct = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: 'us-east-1' });
      const viaProxy = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', maxAttempts: 3 });
      try {
        const tableName = uniqueName('idem-lost');
        await createBucketTable(direct, tableName);
        const store = new DynamoDbIdempotencyStore(viaProxy, tableName, owners());
        proxy.plan(operation, { kind: 'applyThen500' });
        const ids = ['m-1', 'm-2', 'm-3'];
        const results =
          operation === 'PutItem'
            ? new Map([['m-1', await store.begin('m-1', T0, T0 + 60_000)]])
            : await store.beginAll(ids, T0, T0 + 60_000);
        expect(proxy.pending).toBe(0);
        // Applied, its answer lost, sent again: the item stands, and the claim is still ours.
        expect(proxy.forwarded.get(operation)).toBe(2);
        for (const [id, result] of results) {
          expect(result).toEqual({ state: 'started', owner: expect.stringMatching(/^owner-/) });
          // A second delivery finds the live claim.
          const other = new DynamoDbIdempotencyStore(direct, tableName, () => 'someone-else');
          expect((await other.begin(id, T0 + 1, T0 + 60_000)).state).toBe('in_progress');
        }
        expect(results.size).toBe(operation === 'PutItem' ? 1 : 3);
      } finally {
        viaProxy.destroy();
        direct.destroy();
        await proxy.stop();
      }
    },
  );

  it('falls back to one claim per id when the batch is throttled, and claims each once', async () => {
    const proxy = await FaultProxy.start(localEndpoints().dynamodb);
    const direct = new DynamoDBClient({ endpoint: localEndpoints().dynamodb, region: 'us-east-1' });
    const viaProxy = new DynamoDBClient({ endpoint: proxy.endpoint, region: 'us-east-1', maxAttempts: 1 });
    try {
      const tableName = uniqueName('idem-throttled');
      await createBucketTable(direct, tableName);
      const store = new DynamoDbIdempotencyStore(viaProxy, tableName, owners());
      proxy.plan('BatchExecuteStatement', { kind: 'throttle' });
      await expect(store.beginAll(['m-1', 'm-2'], T0, T0 + 60_000)).rejects.toThrow();
      expect(proxy.pending).toBe(0);
      expect(proxy.forwarded.get('BatchExecuteStatement') ?? 0).toBe(0);
      // Nothing was written: each id is still free to claim.
      const again = await store.beginAll(['m-1', 'm-2'], T0, T0 + 60_000);
      expect([...again.values()].map((result) => result.state)).toEqual(['started', 'started']);
    } finally {
      viaProxy.destroy();
      direct.destroy();
      await proxy.stop();
    }
  });
});
