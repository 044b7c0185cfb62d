import type { BucketStore } from '../../../lambda/sluice/store/bucket-store';
import { OP, RPM, rpm, SLOTS, slots, T0, vendor } from './fixtures';

/** Takes from stored tokens (their guards and repeats), lease returns and scans. */
export function describeTakeContract(makeStore: () => Promise<BucketStore>): void {
  describe('takes from stored tokens, lease returns and scans', () => {
    let store: BucketStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('takes from stored tokens without a version: tokens down, lease added, grant counted, version up', async () => {
      const cut = {
        ...rpm,
        tokensMilli: 30_000,
        rateScalePermille: 500,
        rateScaleAtMs: T0,
        rateCeilingPermille: 500,
      };
      await store.create({ ...vendor('openai', 4), buckets: { rpm: cut, 'location-writes': slots } });
      const unfilled = {
        kind: 'unfilled' as const,
        capacityMilli: 60_000,
        windowMs: 60_000,
        tokensAtMostMilli: 31_000,
        lastRefillAtLeastMs: T0 - 10,
      };
      const lease = { id: 'lease-2', state: { costMilli: 1_000, expiresAtMs: T0 + 90_000 } };
      const outcome = await store.takeStored({
        pk: 'openai',
        op: OP,
        nowMs: T0,
        takes: [
          { metric: 'rpm', definition: RPM, costMilli: 2_000, guard: unfilled, countGrant: true },
          {
            metric: 'location-writes',
            definition: SLOTS,
            costMilli: 1_000,
            guard: { kind: 'leases' },
            lease,
            countGrant: false,
          },
        ],
      });
      const expected = {
        ...vendor('openai', 5),
        writers: { [OP.writer]: OP.seq },
        buckets: {
          rpm: { ...cut, tokensMilli: 28_000, grantedSinceCutMilli: 2_000 },
          'location-writes': {
            ...slots,
            tokensMilli: 0,
            leases: { ...slots.leases, 'lease-2': lease.state },
          },
        },
      };
      expect(outcome).toEqual({ ok: true, item: expected });
      expect(await store.get('openai')).toEqual(expected);
    });

    it('takes from a full bucket only while it is full, moving its refill instant (and when it was full) to now', async () => {
      await store.create(vendor('openai'));
      const full = { kind: 'full' as const, capacityMilli: 60_000, nowMs: T0 + 500 };
      const take = {
        pk: 'openai',
        nowMs: T0 + 500,
        takes: [{ metric: 'rpm', definition: RPM, costMilli: 1_000, guard: full, countGrant: false }],
      };
      const first = await store.takeStored({ ...take, op: OP });
      expect(first.ok && first.item.buckets.rpm).toEqual({
        ...rpm,
        tokensMilli: 59_000,
        lastRefillAtMs: T0 + 500,
        fullAtMs: T0 + 500,
      });
      const second = await store.takeStored({ ...take, op: { ...OP, seq: OP.seq + 1 } });
      expect(second).toEqual({ ok: false, current: first.ok ? first.item : undefined });
    });

    it.each([
      ['the cost is more than is stored', 30_001, { tokensMilli: 30_000 }],
      ['the bucket owes debt', 1_000, { tokensMilli: 30_000, debtMilli: 1 }],
      ['more is stored than the guard allows (refill may have capped)', 1_000, { tokensMilli: 40_000 }],
      ['it was refilled before the guard allows', 1_000, { tokensMilli: 30_000, lastRefillAtMs: T0 - 11 }],
      ['its window changed', 1_000, { tokensMilli: 30_000, windowMs: 30_000 }],
    ])(
      'refuses a take from stored tokens when %s, handing back the item',
      async (_why, costMilli, change) => {
        const item = {
          ...vendor('openai', 3),
          buckets: { rpm: { ...rpm, ...change }, 'location-writes': slots },
        };
        await store.create(item);
        const guard = {
          kind: 'unfilled' as const,
          capacityMilli: 60_000,
          windowMs: 60_000,
          tokensAtMostMilli: 30_000,
          lastRefillAtLeastMs: T0 - 10,
        };
        const take = {
          pk: 'openai',
          op: OP,
          nowMs: T0,
          takes: [{ metric: 'rpm', definition: RPM, costMilli, guard, countGrant: false }],
        };
        expect(await store.takeStored(take)).toEqual({ ok: false, current: item });
        expect(await store.takeStored({ ...take, pk: 'ghost' })).toEqual({ ok: false, current: undefined });
      },
    );

    it('answers a repeat of an applied take from stored tokens as the first, taking nothing more', async () => {
      await store.create(vendor('openai'));
      const take = {
        pk: 'openai',
        op: OP,
        nowMs: T0,
        takes: [
          {
            metric: 'rpm',
            definition: RPM,
            costMilli: 1_000,
            guard: { kind: 'leases' as const },
            countGrant: false,
          },
        ],
      };
      const first = await store.takeStored(take);
      const repeat = await store.takeStored(take);
      expect(first.ok && first.item.buckets.rpm?.tokensMilli).toBe(59_000);
      expect(repeat).toEqual(first);
      expect((await store.get('openai'))?.buckets.rpm?.tokensMilli).toBe(59_000);
    });

    it.each([
      [
        'its limit type changed (a stale cache takes through a lease guard)',
        { limitType: 'concurrent' as const },
      ],
      ['its capacity changed', { capacityMilli: 120_000 }],
      ['its cost per call changed', { costPerCall: 2 }],
    ])('refuses a take from stored tokens computed from another definition: %s', async (_why, cached) => {
      const item = vendor('openai', 3);
      await store.create(item);
      const take = {
        pk: 'openai',
        op: OP,
        nowMs: T0,
        takes: [
          {
            metric: 'rpm',
            definition: { ...RPM, ...cached },
            costMilli: 1_000,
            guard: { kind: 'leases' as const },
            countGrant: false,
          },
        ],
      };
      expect(await store.takeStored(take)).toEqual({ ok: false, current: item });
    });

    it('returns a lease exactly once: the cost comes back, the lease goes, the version moves', async () => {
      await store.create(vendor('sweeppea'));
      const lease = { pk: 'sweeppea', metric: 'location-writes', leaseId: 'lease-1', costMilli: 1_000 };
      const first = await store.returnLease(lease);
      expect(first).toEqual({
        ok: true,
        item: {
          ...vendor('sweeppea', 2),
          buckets: { rpm, 'location-writes': { ...slots, tokensMilli: 2_000, leases: {} } },
        },
      });
      expect(await store.returnLease(lease)).toEqual({ ok: false });
      expect((await store.get('sweeppea'))?.buckets['location-writes']?.tokensMilli).toBe(2_000);
    });

    it('reclaims a lease only once it has expired', async () => {
      await store.create(vendor('sweeppea'));
      const lease = { pk: 'sweeppea', metric: 'location-writes', leaseId: 'lease-1', costMilli: 1_000 };
      expect(await store.returnLease({ ...lease, expiredBeforeMs: T0 + 60_000 })).toEqual({ ok: false });
      expect((await store.returnLease({ ...lease, expiredBeforeMs: T0 + 60_001 })).ok).toBe(true);
    });

    it('says a lease of an absent item or bucket is not there', async () => {
      expect(await store.returnLease({ pk: 'none', metric: 'm', leaseId: 'x', costMilli: 1 })).toEqual({
        ok: false,
      });
    });

    it('pages a scan through every item', async () => {
      for (const pk of ['a', 'b', 'c', 'd', 'e']) await store.create(vendor(pk));
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await store.scan(cursor, 2);
        seen.push(...page.items.map((i) => i.pk));
        cursor = page.cursor;
        pages++;
      } while (cursor !== undefined && pages < 10);
      expect(seen.sort()).toEqual(['a', 'b', 'c', 'd', 'e']);
      expect(pages).toBeGreaterThanOrEqual(3);
    });
  });
}
