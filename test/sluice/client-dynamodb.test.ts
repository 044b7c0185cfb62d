import { SluiceClient } from '../../lambda/sluice/client';
import { localTable, RecordingLogger, testSettings } from './helpers';

describe('the SDK on DynamoDB Local', () => {
  it('grants, denies with a computed wait, releases a lease and penalizes', async () => {
    const { dynamodb, tableName } = await localTable();
    let now = 1_700_000_000_000;
    const client = new SluiceClient({
      settings: testSettings({ tableName }),
      dynamodb,
      clock: () => now,
      logger: new RecordingLogger(),
    });
    await client.upsertBuckets([
      { dimension: 'openai#rpm', limitType: 'requests', capacity: 2, windowSeconds: 60 },
      { dimension: 'openai#tpm', limitType: 'tokens', capacity: 1000, windowSeconds: 60 },
      { dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 },
      { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 1, windowSeconds: 1 },
    ]);
    const first = await client.acquire({ 'openai#rpm': 1, 'openai#tpm': 400 });
    expect(first.outcome).toBe('Granted');
    await client.acquire({ 'openai#rpm': 1, 'openai#tpm': 400 });
    const third = await client.acquire({ 'openai#rpm': 1, 'openai#tpm': 100 });
    expect(third).toEqual({ outcome: 'RetryIn', waitSeconds: 30, dimension: 'openai#rpm' });
    const slotA = await client.acquire('sweeppea#concurrent');
    expect((await client.acquire('sweeppea#concurrent')).outcome).toBe('RetryIn');
    if (slotA.outcome !== 'Granted') throw new Error('expected a grant');
    await slotA.release();
    expect((await client.acquire(['sweeppea#concurrent', 'waitwhile#location-writes#loc-1'])).outcome).toBe(
      'Granted',
    );
    expect(await client.penalize('openai#tpm', 0.5)).toEqual({
      dimension: 'openai#tpm',
      factor: 0.5,
      tokensBefore: 200,
      tokensAfter: 100,
      rateScaleBefore: 1,
      rateScaleAfter: 0.5,
      // Refused within a window of the grants from the full bucket: the burst, no ceiling learnt.
      rateCeilingAfter: 1,
    });
    now += 120_000;
    expect(await client.reconcile()).toEqual({ totalLeases: 1, restored: 1, deleted: 0, failedItems: 0 });
    expect(await client.snapshot('sweeppea#concurrent')).toEqual({
      dimension: 'sweeppea#concurrent',
      limitType: 'concurrent',
      capacity: 1,
      refillPerSecond: 0,
      tokens: 1,
      debt: 0,
      leases: 0,
      rateScale: 1,
    });
    dynamodb.destroy();
  });
});
