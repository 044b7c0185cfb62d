import { SluiceClient } from '../../lambda/sluice/client';
import { localTable, RecordingLogger, SimulatedClock, testSettings } from './helpers';
import { driveDemand, grantsOf } from './share-driver';

describe('fair shares on DynamoDB Local', () => {
  it('applies the same plan: the shares split a backlog, an idle share is lent, and the demand is stored with the bucket', async () => {
    const { dynamodb, tableName, store } = await localTable('shares');
    const clock = new SimulatedClock();
    const client = new SluiceClient({
      settings: testSettings({ tableName }),
      dynamodb,
      clock: clock.now,
      logger: new RecordingLogger(),
    });
    await client.upsertBuckets([
      {
        dimension: 'booking#rps',
        limitType: 'requests',
        capacity: 3,
        windowSeconds: 1,
        shares: { checkout: 0.75, batch: 0.25 },
      },
    ]);
    const grants = await driveDemand(
      client,
      clock,
      'booking#rps',
      [{ product: 'batch' }, { product: 'checkout', from: 2_000 }],
      10_000,
    );
    // Alone, batch had the whole rate (3 at once, then 3/s); then checkout has three quarters.
    expect(grantsOf(grants, 'batch', 0, 2_000)).toBeGreaterThanOrEqual(8);
    const checkout = grantsOf(grants, 'checkout', 3_000, 10_000);
    const batch = grantsOf(grants, 'batch', 3_000, 10_000);
    expect(checkout / (checkout + batch)).toBeGreaterThan(0.7);
    expect(checkout / (checkout + batch)).toBeLessThan(0.8);
    const stored = await store.get('booking');
    expect(stored?.buckets.rps?.sharesPermille).toEqual({ checkout: 750, batch: 250 });
    expect(Object.keys(stored?.buckets.rps?.shareUse ?? {}).sort()).toEqual(['batch', 'checkout']);
  });
});
