import { Metric } from '../../lambda/contract';
import { sha256Hex } from '../../lambda/outcomes/claim-check';
import type { CompletedOutcome } from '../../lambda/producer/outcome';
import { readClaimCheckedBody } from '../../local/outcomes/topology';
import { WorkerHarness } from './harness';

/**
 * The outcomes through fauxqs's SNS topic, one subscriber queue per product with the CDK's filter
 * policy, and its S3 bucket for claim-checked bodies, with the idempotency records on DynamoDB
 * Local. Needs the servers: the filter policy and the bytes read back from S3 are theirs. Every
 * way a message ends, and the memory topic's routing, run on memory ports in
 * outcomes.unit.test.ts.
 */

const visitVendor = {
  name: 'waitwhile',
  allowedPaths: ['/locations'],
  operations: {
    createVisit: {
      method: 'POST' as const,
      path: '/locations/{locationId}/visits',
      dimensions: { 'waitwhile#rps': 1 },
    },
  },
  policy: { maxAttempts: 3, requeueJitterSeconds: 0, inlineRetryThresholdSeconds: 0.5 },
};

describe('outcomes through SNS and S3', () => {
  let harness: WorkerHarness;
  const start = () =>
    WorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets: [{ dimension: 'waitwhile#rps', limitType: 'requests', capacity: 50, windowSeconds: 1 }],
      vendor: visitVendor,
      products: ['checkout', 'support'],
    });
  const visit = (id: string, product: string, body: Record<string, unknown> = { name: 'Ada' }) => ({
    id,
    product,
    operation: 'createVisit',
    params: { locationId: 'loc-1' },
    body,
  });
  afterEach(() => harness.stop());

  it('claim-checks a body too large for the topic to S3: the event names it, and its bytes match the sha256', async () => {
    harness = await start();
    const large = 'x'.repeat(210 * 1024);
    await harness.enqueue([visit('big-1', 'support', { name: 'Ada', notes: large })]);
    await harness.runUntilIdle();
    const [outcome] = (await harness.outcomesOf('support', 1)) as CompletedOutcome[];
    expect(outcome?.body).toBeUndefined();
    const ref = outcome?.bodyRef;
    expect(ref).toMatchObject({ bucket: harness.outcomes?.bucket, format: 'json' });
    const bytes = await readClaimCheckedBody(harness.s3, ref?.bucket ?? '', ref?.key ?? '');
    expect(bytes.length).toBe(ref?.size);
    expect(sha256Hex(bytes)).toBe(ref?.sha256);
    expect(JSON.parse(bytes.toString('utf8'))).toMatchObject({
      name: 'Ada',
      notes: large,
      locationId: 'loc-1',
    });
    expect(harness.telemetry.countOf(Metric.outcomeBodiesClaimChecked)).toBe(1);
  });

  it('delivers each product only its own outcomes', async () => {
    harness = await start();
    await harness.enqueue([
      visit('c-1', 'checkout'),
      visit('s-1', 'support'),
      visit('c-2', 'checkout'),
      visit('s-2', 'support'),
      visit('c-3', 'checkout'),
    ]);
    await harness.runUntilIdle();
    const checkout = await harness.outcomesOf('checkout', 3);
    const support = await harness.outcomesOf('support', 2);
    expect(checkout.map((outcome) => `${outcome.product}:${outcome.id}`).sort()).toEqual([
      'checkout:c-1',
      'checkout:c-2',
      'checkout:c-3',
    ]);
    expect(support.map((outcome) => `${outcome.product}:${outcome.id}`).sort()).toEqual([
      'support:s-1',
      'support:s-2',
    ]);
    expect(await harness.outcomesNowOf('checkout')).toEqual([]);
    expect(await harness.outcomesNowOf('support')).toEqual([]);
  });
});
