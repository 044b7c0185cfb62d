import { SluiceClient } from '../../lambda/sluice/client';
import type { BucketDefinition } from '../../lambda/sluice/core/types';
import { isSluiceInputError } from '../../lambda/sluice/errors';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { granted } from './fixtures';
import { localTable, RecordingLogger, SimulatedClock, seededRandom, testSettings } from './helpers';

/**
 * Operators change limits with `upsertBuckets` while warm clients keep their caches. A write
 * computed from a definition the table no longer holds meets a conflict and the fresh item,
 * never a wrong grant. Each case: a warm client, then an operator's upsert, then the warm
 * client again; on the memory store and on DynamoDB Local.
 */

const STORES: [string, () => Promise<{ store: BucketStore; done: () => void }>][] = [
  ['the memory store', async () => ({ store: new MemoryBucketStore(), done: () => undefined })],
  [
    'DynamoDB Local',
    async () => {
      const { store, dynamodb } = await localTable('sdk-live-def');
      return { store, done: () => dynamodb.destroy() };
    },
  ],
];

describe.each(STORES)('limits changed while a client is warm, on %s', (_name, makeStore) => {
  let store: BucketStore;
  let done: () => void;
  let warm: SluiceClient;
  let operator: SluiceClient;
  beforeEach(async () => {
    ({ store, done } = await makeStore());
    const clock = new SimulatedClock();
    const client = (seed: number) =>
      new SluiceClient({
        settings: testSettings({ tableName: 'unused' }),
        store,
        clock: clock.now,
        random: seededRandom(seed),
        logger: new RecordingLogger(),
        sleep: async (ms) => clock.advance(ms),
      });
    warm = client(1);
    operator = client(2);
  });
  afterEach(() => done());

  const upsert = (definitions: BucketDefinition[]) => operator.upsertBuckets(definitions);

  it('concurrent → requests: the warm take meets the new type, and takes no lease', async () => {
    await upsert([{ dimension: 'v#x', limitType: 'concurrent', capacity: 2 }]);
    await granted(await warm.acquire('v#x')).release();
    await upsert([{ dimension: 'v#x', limitType: 'requests', capacity: 2, windowSeconds: 60 }]);
    const grant = granted(await warm.acquire('v#x'));
    const after = await operator.snapshot('v#x');
    expect([grant.leases.length, after.limitType, after.tokens, after.leases]).toEqual([0, 'requests', 1, 0]);
  });

  it('requests → concurrent: the warm take meets the new type, and holds a lease', async () => {
    await upsert([{ dimension: 'v#x', limitType: 'requests', capacity: 2, windowSeconds: 60 }]);
    granted(await warm.acquire('v#x'));
    await upsert([{ dimension: 'v#x', limitType: 'concurrent', capacity: 2 }]);
    const grant = granted(await warm.acquire('v#x'));
    const after = await operator.snapshot('v#x');
    expect([grant.leases.length, after.tokens, after.leases]).toEqual([1, 1, 1]);
  });

  it('a stale penalize or resync of a bucket now concurrent is refused, and scales nothing', async () => {
    await upsert([{ dimension: 'v#x', limitType: 'requests', capacity: 4, windowSeconds: 60 }]);
    granted(await warm.acquire('v#x'));
    await upsert([{ dimension: 'v#x', limitType: 'concurrent', capacity: 4 }]);
    const penalty = await warm.penalize('v#x', 0.5).catch((e: unknown) => e);
    const resync = await warm.resync('v#x', 0).catch((e: unknown) => e);
    expect([
      isSluiceInputError(penalty),
      isSluiceInputError(resync),
      (await operator.snapshot('v#x')).tokens,
    ]).toEqual([true, true, 4]);
  });

  it('a template lowered from 10 to 2: a new key is created at 2, not from the cached 10', async () => {
    await upsert([{ dimension: 'w#loc#*', limitType: 'requests', capacity: 10, windowSeconds: 60 }]);
    granted(await warm.acquire('w#loc#k1'));
    await upsert([{ dimension: 'w#loc#*', limitType: 'requests', capacity: 2, windowSeconds: 60 }]);
    granted(await warm.acquire('w#loc#k2'));
    expect(await operator.snapshot('w#loc#k2')).toMatchObject({ capacity: 2, tokens: 1 });
  });

  it('capacity raised: a cost that now fits waits for refill, not refused as one that never could be', async () => {
    await upsert([{ dimension: 'v#y', limitType: 'requests', capacity: 5, windowSeconds: 60 }]);
    granted(await warm.acquire('v#y'));
    await upsert([{ dimension: 'v#y', limitType: 'requests', capacity: 50, windowSeconds: 60 }]);
    // Live tokens are kept (4 of them): 16 more at 50 a minute is 19.2 s.
    expect(await warm.acquire({ 'v#y': 20 })).toEqual({
      outcome: 'RetryIn',
      waitSeconds: 19.2,
      dimension: 'v#y',
    });
  });

  it("a key's own definition survives a later upsert of its template", async () => {
    await upsert([
      { dimension: 'w#loc#*', limitType: 'requests', capacity: 10, windowSeconds: 60 },
      { dimension: 'w#loc#vip', limitType: 'requests', capacity: 100, windowSeconds: 60 },
    ]);
    granted(await warm.acquire(['w#loc#vip', 'w#loc#k1']));
    await upsert([{ dimension: 'w#loc#*', limitType: 'requests', capacity: 5, windowSeconds: 60 }]);
    const [vip, k1] = [await operator.snapshot('w#loc#vip'), await operator.snapshot('w#loc#k1')];
    expect([vip.capacity, k1.capacity]).toEqual([100, 5]);
  });
});
