import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { SluiceClient } from '../../lambda/sluice/client';
import { SWEEP_INDEX, TABLE_PARTITION_KEY } from '../../lambda/sluice/store/table';
import { localTable, RecordingLogger, testSettings } from './helpers';

/**
 * One item the SDK cannot decode (hand-edited, or written by a newer version) must not stop
 * the sweep: on DynamoDB Local, the reconciler (reading the sweep index) skips it with a count
 * and a log line and still returns the expired lease of the bucket beside it.
 */
describe('the sweep past an undecodable item', () => {
  it('counts and logs the item, and still returns the expired leases of the others', async () => {
    const { dynamodb, tableName } = await localTable('undecodable');
    let now = 1_700_000_000_000;
    const logger = new RecordingLogger();
    const client = new SluiceClient({
      settings: testSettings({ tableName }),
      dynamodb,
      clock: () => now,
      logger,
    });
    await client.upsertBuckets([{ dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 }]);
    expect((await client.acquire('sweeppea#concurrent')).outcome).toBe('Granted');
    // Sorted before and after the good item alike: a broken item anywhere in a page.
    for (const pk of ['aaa-broken', 'zzz-broken']) {
      await dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: {
            [TABLE_PARTITION_KEY]: { S: pk },
            // A bucket item as the SDK writes it (in the sweep index), its bucket broken.
            [SWEEP_INDEX.partitionKey]: { S: pk },
            version: { N: '3' },
            buckets: { M: { rps: { M: { limit_type: { S: 'no-such-type' } } } } },
          },
        }),
      );
    }
    now += 120_000;
    expect(await client.reconcile()).toEqual({ totalLeases: 1, restored: 1, deleted: 0, failedItems: 2 });
    expect(
      logger
        .events('reconciler.item_failed')
        .map((f) => f.pk)
        .sort(),
    ).toEqual(['aaa-broken', 'zzz-broken']);
    expect(logger.events('reconciler.item_failed')[0]).toMatchObject({
      step: 'decode',
      error: expect.stringContaining('limit_type'),
    });
    expect((await client.snapshot('sweeppea#concurrent')).leases).toBe(0);
    dynamodb.destroy();
  });
});
