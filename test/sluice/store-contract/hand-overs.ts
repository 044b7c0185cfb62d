import type { BucketStore } from '../../../lambda/sluice/store/bucket-store';
import { OP, SLOTS, slots, T0, vendor } from './fixtures';

/** Hand-overs of concurrent leases: one write that removes the old lease and adds the new one. */
export function describeHandOverContract(makeStore: () => Promise<BucketStore>): void {
  describe('lease hand-overs', () => {
    let store: BucketStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    const next = { id: 'lease-2', state: { costMilli: 1_000, expiresAtMs: T0 + 90_000 } };
    const handOver = {
      pk: 'sweeppea',
      op: OP,
      nowMs: T0 + 1_000,
      leases: [{ metric: 'location-writes', definition: SLOTS, fromLeaseId: 'lease-1', to: next }],
    };

    it('swaps the old lease for the new one in one write: tokens unchanged, op recorded, version up', async () => {
      await store.create(vendor('sweeppea'));
      const expected = {
        ...vendor('sweeppea', 2),
        writers: { [OP.writer]: OP.seq },
        buckets: {
          ...vendor('sweeppea').buckets,
          'location-writes': { ...slots, leases: { 'lease-2': next.state } },
        },
      };
      expect(await store.handOverLeases(handOver)).toEqual({ ok: true, item: expected });
      expect(await store.get('sweeppea')).toEqual(expected);
      // The old lease is gone: its holder's release finds nothing, so its cost never comes back twice.
      const old = { pk: 'sweeppea', metric: 'location-writes', leaseId: 'lease-1', costMilli: 1_000 };
      expect(await store.returnLease(old)).toEqual({ ok: false });
      expect((await store.get('sweeppea'))?.buckets['location-writes']?.tokensMilli).toBe(1_000);
    });

    it('answers a repeat of an applied hand-over as the first, changing nothing more', async () => {
      await store.create(vendor('sweeppea'));
      const first = await store.handOverLeases(handOver);
      const repeat = await store.handOverLeases(handOver);
      expect(first.ok).toBe(true);
      expect(repeat).toEqual(first);
      expect((await store.get('sweeppea'))?.version).toBe(2);
    });

    it('refuses a hand-over whose old lease is no longer held (released or reclaimed), handing back the item', async () => {
      await store.create(vendor('sweeppea'));
      const returned = await store.returnLease({
        pk: 'sweeppea',
        metric: 'location-writes',
        leaseId: 'lease-1',
        costMilli: 1_000,
      });
      const current = returned.ok ? returned.item : undefined;
      expect(await store.handOverLeases(handOver)).toEqual({ ok: false, current });
      expect(await store.handOverLeases({ ...handOver, pk: 'ghost' })).toEqual({
        ok: false,
        current: undefined,
      });
    });

    it.each([
      ['its capacity changed', { definition: { ...SLOTS, capacityMilli: 3_000 } }, {}],
      [
        'the new lease would cost another amount',
        { to: { ...next, state: { ...next.state, costMilli: 2_000 } } },
        {},
      ],
      ['a Retry-After hold is in force', {}, { holdUntilMs: T0 + 1_001 }],
      ['a lowered capacity is below the leases held', {}, { tokensMilli: -1_000 }],
    ])('refuses a hand-over when %s, handing back the item', async (_why, change, bucketChange) => {
      const item = {
        ...vendor('sweeppea', 3),
        buckets: { ...vendor('sweeppea').buckets, 'location-writes': { ...slots, ...bucketChange } },
      };
      await store.create(item);
      const changed = { ...handOver, leases: [{ ...handOver.leases[0]!, ...change }] };
      expect(await store.handOverLeases(changed)).toEqual({ ok: false, current: item });
    });

    it('hands over under a hold that has already ended', async () => {
      const item = {
        ...vendor('sweeppea'),
        buckets: { ...vendor('sweeppea').buckets, 'location-writes': { ...slots, holdUntilMs: T0 + 1_000 } },
      };
      await store.create(item);
      expect((await store.handOverLeases(handOver)).ok).toBe(true);
    });
  });
}
