import type { BucketState } from '../../../lambda/sluice/core/model';
import type { BucketStore } from '../../../lambda/sluice/store/bucket-store';
import { OP, RPM, rpm, slots, T0, vendor } from './fixtures';

/** A time bucket's slices (leases for hot buckets): stored and read back, returned once, guarding stored takes. */
export function describeSliceContract(makeStore: () => Promise<BucketStore>): void {
  describe('slices of a time bucket', () => {
    let store: BucketStore;
    beforeEach(async () => {
      store = await makeStore();
    });
    const sliced: BucketState = {
      ...rpm,
      slicing: { sharePermille: 250, sliceMs: 5_000 },
      tokensMilli: 45_000,
      leases: { 'slice-1': { costMilli: 15_000, expiresAtMs: T0 + 5_000 } },
    };
    const item = { ...vendor('hot'), buckets: { rpm: sliced, 'location-writes': slots } };

    it('keeps the slicing definition and the slices held, and a versioned write replaces them', async () => {
      await store.create(item);
      expect(await store.get('hot')).toEqual(item);
      const next: BucketState = {
        ...sliced,
        tokensMilli: 40_000,
        leases: { 'slice-2': { costMilli: 15_000, expiresAtMs: T0 + 6_000 } },
      };
      expect(await store.write({ pk: 'hot', expectedVersion: 1, buckets: { rpm: next }, op: OP })).toEqual({
        ok: true,
      });
      expect((await store.get('hot'))?.buckets.rpm).toEqual(next);
    });

    it('gives a slice back once: its unused part added to the stored tokens, the slice removed', async () => {
      await store.create(item);
      const back = { pk: 'hot', metric: 'rpm', leaseId: 'slice-1', costMilli: 4_000 };
      const first = await store.returnLease(back);
      expect(first.ok && first.item.buckets.rpm).toEqual({ ...sliced, tokensMilli: 49_000, leases: {} });
      expect(await store.returnLease(back)).toEqual({ ok: false });
      expect((await store.get('hot'))?.buckets.rpm?.tokensMilli).toBe(49_000);
    });

    it('drops an expired slice only after the instant given, returning nothing', async () => {
      await store.create(item);
      const drop = { pk: 'hot', metric: 'rpm', leaseId: 'slice-1', costMilli: 0 };
      expect(await store.returnLease({ ...drop, expiredBeforeMs: T0 + 5_000 })).toEqual({ ok: false });
      const dropped = await store.returnLease({ ...drop, expiredBeforeMs: T0 + 5_001 });
      expect(dropped.ok && dropped.item.buckets.rpm).toEqual({ ...sliced, leases: {} });
    });

    it('refuses a take from stored tokens while a slice is held, handing back the item', async () => {
      await store.create(item);
      const outcome = await store.takeStored({
        pk: 'hot',
        op: OP,
        nowMs: T0,
        takes: [
          {
            metric: 'rpm',
            definition: RPM,
            costMilli: 1_000,
            guard: {
              kind: 'unfilled',
              capacityMilli: 60_000,
              windowMs: 60_000,
              tokensAtMostMilli: 45_000,
              lastRefillAtLeastMs: T0,
            },
            countGrant: false,
          },
        ],
      });
      expect(outcome).toEqual({ ok: false, current: item });
    });
  });
}
