import { SluiceLogEvent } from '../../lambda/sluice/ops/log-events';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { DEFINITIONS, granted } from './fixtures';
import { memoryClient, SimulatedClock } from './helpers';

describe('reconcile', () => {
  it('returns the capacity of expired leases only, once, and logs reconciler.scan_complete', async () => {
    const { client, clock, logger } = memoryClient();
    await client.upsertBuckets(DEFINITIONS);
    granted(await client.acquire('sweeppea#concurrent'));
    // Lease lifetime = max(lease TTL 60 s, slot timeout 30 s + margin 5 s) = 60 s.
    clock.advance(30_000);
    granted(await client.acquire('sweeppea#concurrent'));
    expect(await client.reconcile()).toEqual({ totalLeases: 2, restored: 0, deleted: 0, failedItems: 0 });
    clock.advance(30_001);
    expect(await client.reconcile()).toEqual({ totalLeases: 2, restored: 1, deleted: 0, failedItems: 0 });
    expect(await client.reconcile()).toEqual({ totalLeases: 1, restored: 0, deleted: 0, failedItems: 0 });
    expect(await client.snapshot('sweeppea#concurrent')).toMatchObject({ tokens: 1, leases: 1 });
    expect(logger.events(SluiceLogEvent.reconcilerScanComplete).at(-1)).toEqual({
      total_leases: 1,
      restored: 0,
      deleted: 0,
      failed_items: 0,
    });
  });

  it('forgets writer lanes idle for 15 minutes, and only those', async () => {
    const { client, clock, store } = memoryClient();
    await client.upsertBuckets(DEFINITIONS);
    granted(await client.acquire('openai#rpm'));
    const [[lane, seq]] = Object.entries((await store.get('openai'))!.writers) as [[string, number]];
    clock.nowMs = seq + 15 * 60_000;
    expect((await client.reconcile()).deleted).toBe(0);
    clock.advance(1);
    granted(await client.acquire('waitwhile#rps'));
    expect((await client.reconcile()).deleted).toBe(1);
    // The lane last wrote openai 15 min + 1 ms ago and waitwhile just now: only the first is forgotten.
    expect([
      (await store.get('openai'))!.writers,
      Object.keys((await store.get('waitwhile'))!.writers),
    ]).toEqual([{}, [lane]]);
  });

  it('never reclaims a lease before its expiry, however long the slot timeout', async () => {
    const { client, clock } = memoryClient({ settings: { defaultSlotTimeoutSeconds: 300 } });
    await client.upsertBuckets(DEFINITIONS);
    const grant = granted(await client.acquire('sweeppea#concurrent'));
    expect(grant.leases[0]?.expiresAtMs).toBe(clock.nowMs + 305_000);
    clock.advance(305_000);
    expect((await client.reconcile()).restored).toBe(0);
  });

  it('restores capacity exactly once when a late release follows a reclaim', async () => {
    const { client, clock } = memoryClient();
    await client.upsertBuckets(DEFINITIONS);
    const grant = granted(await client.acquire('sweeppea#concurrent'));
    clock.advance(60_001);
    expect((await client.reconcile()).restored).toBe(1);
    await grant.release();
    expect(await client.snapshot('sweeppea#concurrent')).toMatchObject({ tokens: 2, leases: 0 });
  });

  it('goes on past an item that fails and counts it', async () => {
    const memory = new MemoryBucketStore();
    const clock = new SimulatedClock();
    const setup = memoryClient({ store: memory, clock });
    await setup.client.upsertBuckets([
      ...DEFINITIONS,
      { dimension: 'other#concurrent', limitType: 'concurrent', capacity: 1 },
    ]);
    granted(await setup.client.acquire('sweeppea#concurrent'));
    granted(await setup.client.acquire('other#concurrent'));
    const failing: BucketStore = Object.assign(Object.create(memory), {
      returnLease: async (lease: Parameters<BucketStore['returnLease']>[0]) => {
        if (lease.pk === 'other') throw new Error('injected fault');
        return memory.returnLease(lease);
      },
    });
    const reconciler = memoryClient({ store: failing, clock });
    clock.advance(60_001);
    expect(await reconciler.client.reconcile()).toEqual({
      totalLeases: 2,
      restored: 1,
      deleted: 0,
      failedItems: 1,
    });
    expect(reconciler.logger.events('reconciler.item_failed')).toEqual([
      { pk: 'other', error: 'injected fault' },
    ]);
  });

  it('counts the items its store could not read or decode, and reclaims the leases of the rest', async () => {
    const memory = new MemoryBucketStore();
    const clock = new SimulatedClock();
    const setup = memoryClient({ store: memory, clock });
    await setup.client.upsertBuckets(DEFINITIONS);
    granted(await setup.client.acquire('sweeppea#concurrent'));
    const partial: BucketStore = Object.assign(Object.create(memory), {
      sweep: async (cursor?: string, limit?: number) => ({
        ...(await memory.sweep(cursor, limit)),
        undecodable: [{ pk: 'broken', error: 'bad limit_type' }],
        unread: ['throttled'],
      }),
    });
    const reconciler = memoryClient({ store: partial, clock });
    clock.advance(60_001);
    expect(await reconciler.client.reconcile()).toEqual({
      totalLeases: 1,
      restored: 1,
      deleted: 0,
      failedItems: 2,
    });
    expect(reconciler.logger.events('reconciler.item_failed')).toEqual([
      { pk: 'broken', step: 'decode', error: 'bad limit_type' },
      { pk: 'throttled', step: 'read', error: 'left unread by the store' },
    ]);
  });

  it('reads the bucket items through the sweep, never a scan of the table', async () => {
    const { client, store } = memoryClient();
    await client.upsertBuckets(DEFINITIONS.filter((d) => !d.dimension.endsWith('#*')));
    const before = { ...store.requests };
    await client.reconcile();
    expect([store.requests.sweep - before.sweep, store.requests.scan - before.scan]).toEqual([1, 0]);
  });

  it('starts no page past its stopAtMs, reports itself unfinished, and a later run starts over and reaches the rest', async () => {
    const memory = new MemoryBucketStore();
    const clock = new SimulatedClock();
    const setup = memoryClient({ store: memory, clock });
    // 150 bucket items: two pages of the sweep (100 a page).
    const vendors = Array.from({ length: 150 }, (_, i) => `v${String(i).padStart(3, '0')}`);
    await setup.client.upsertBuckets(
      vendors.map((v) => ({ dimension: `${v}#concurrent`, limitType: 'concurrent' as const, capacity: 1 })),
    );
    for (const v of vendors) granted(await setup.client.acquire(`${v}#concurrent`));
    clock.advance(60_001);
    const slowPages: BucketStore = Object.assign(Object.create(memory), {
      sweep: async (cursor?: string, limit?: number) => {
        const page = await memory.sweep(cursor, limit);
        clock.advance(30_000); // each page takes 30 s of the run's budget
        return page;
      },
    });
    const reconciler = memoryClient({ store: slowPages, clock });
    expect(await reconciler.client.reconcile({ stopAtMs: clock.nowMs + 20_000 })).toEqual({
      totalLeases: 100,
      restored: 100,
      deleted: 0,
      failedItems: 0,
      unfinished: true,
    });
    expect(reconciler.logger.events(SluiceLogEvent.reconcilerScanComplete)).toEqual([
      { total_leases: 100, restored: 100, deleted: 0, failed_items: 0, unfinished: true },
    ]);
    expect(await reconciler.client.reconcile({ stopAtMs: clock.nowMs + 60_000 })).toEqual({
      totalLeases: 50,
      restored: 50,
      deleted: 0,
      failedItems: 0,
    });
  });
});
