import { LogEvent } from '../../lambda/contract';
import type { SluiceLogger } from '../../lambda/sluice';
import { MemoryWorkerHarness } from './memory-harness';

/**
 * The worker's acquires carry the message's product as the SDK's product label, so the SDK's
 * `acquire.*` events (and what is built on them) split by product. Only configured products
 * reach the label: a message naming another one is invalid and never acquires.
 */

function recordingLogger(): SluiceLogger & { fieldsOf(event: string): Record<string, unknown>[] } {
  const events: { message: string; fields: Record<string, unknown> }[] = [];
  const record = (message: string, fields: Record<string, unknown>) => events.push({ message, fields });
  return {
    debug: record,
    info: record,
    warn: record,
    error: record,
    fieldsOf: (event) => events.filter((each) => each.message === event).map((each) => each.fields),
  };
}

const vendor = {
  name: 'waitwhile',
  operations: {
    createVisit: {
      method: 'POST' as const,
      path: '/locations/{locationId}/visits',
      dimensions: { 'waitwhile#rps': 1 },
    },
  },
  policy: { requeueJitterSeconds: 0 },
};
const buckets = [
  { dimension: 'waitwhile#rps', limitType: 'requests' as const, capacity: 50, windowSeconds: 1 },
];
// One location per message: the simulator allows one write per second per location.
const visit = (id: string, product?: string) => ({
  id,
  ...(product === undefined ? {} : { product }),
  operation: 'createVisit',
  params: { locationId: `loc-${id}` },
  body: { name: 'Ada' },
});

describe("the SDK's product label on the worker's acquires", () => {
  let harness: MemoryWorkerHarness;
  afterEach(() => harness.stop());

  it('is the configured product each message names, on the memory bucket store', async () => {
    const logger = recordingLogger();
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets,
      vendor,
      products: ['checkout', 'support'],
      sdkLogger: logger,
    });
    await harness.enqueue([visit('order-1', 'checkout'), visit('ticket-1', 'support')]);
    // A product outside the configuration is invalid: it never acquires, so it never becomes a label.
    await harness.sendRaw(JSON.stringify(visit('bill-1', 'billing')));
    await harness.runUntilIdle();
    const granted = logger.fieldsOf(LogEvent.acquireGranted).map((fields) => fields.product);
    expect(granted.sort()).toEqual(['checkout', 'support']);
    expect(harness.simulator.stats().calls).toBe(2);
    expect(harness.telemetry.fieldsOf(LogEvent.messageInvalid)).toHaveLength(1);
  });

  it('is absent when the stack has no products', async () => {
    const logger = recordingLogger();
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      buckets,
      vendor,
      sdkLogger: logger,
    });
    await harness.enqueue([visit('order-2')]);
    await harness.runUntilIdle();
    const granted = logger.fieldsOf(LogEvent.acquireGranted);
    expect(granted).toHaveLength(1);
    expect(granted[0]).not.toHaveProperty('product');
  });
});
