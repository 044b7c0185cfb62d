import { SeedBucketsProperty } from '../../lambda/contract';
import { synthStack } from './synth';

/** Fair shares in the stack: the seeding carries the shares, the dashboard shows each product, and a product's wait alarms. */
describe('a stack whose products have shares', () => {
  const { template } = synthStack({
    products: [
      { name: 'checkout', share: 0.75, maxWaitSeconds: 30 },
      { name: 'batch', share: 0.25 },
    ],
  });

  it('seeds every time bucket with the shares', () => {
    const seeding = Object.values(template.findResources('Custom::SluiceBuckets'))[0];
    const buckets = JSON.parse(seeding?.Properties?.[SeedBucketsProperty.bucketsJson] as string) as {
      limitType: string;
      shares?: Record<string, number>;
    }[];
    for (const bucket of buckets) {
      expect(bucket.shares).toEqual(
        bucket.limitType === 'concurrent' ? undefined : { checkout: 0.75, batch: 0.25 },
      );
    }
    expect(buckets.some((b) => b.shares)).toBe(true);
  });

  it('alarms when checkout waits longer than its maxWaitSeconds, and has no alarm for a product without one', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm')).filter(
      (alarm) => alarm.Properties?.MetricName === 'ProductMessageAge',
    );
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Threshold: 30,
      Statistic: 'Maximum',
      ComparisonOperator: 'GreaterThanThreshold',
      TreatMissingData: 'notBreaching',
      Dimensions: expect.arrayContaining([{ Name: 'Product', Value: 'checkout' }]),
    });
  });

  it('shows per product the admitted rate, the share used and borrowed, and the message age', () => {
    const body = JSON.stringify(Object.values(template.findResources('AWS::CloudWatch::Dashboard'))[0]);
    for (const metric of [
      'ProductGrants',
      'ProductReservedUnits',
      'ProductCommonUnits',
      'ProductMessageAge',
    ]) {
      expect(body).toContain(metric);
    }
  });
});
