import { fullBucket } from '../../lambda/sluice/core/bucket-math';
import type { BucketDefinitionState, BucketItem, BucketState } from '../../lambda/sluice/core/model';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';

const T0 = 1_700_000_000_000;
const RPM: BucketDefinitionState = {
  limitType: 'requests',
  capacityMilli: 60_000,
  windowMs: 60_000,
  costPerCall: 1,
};
const SLOTS: BucketDefinitionState = {
  limitType: 'concurrent',
  capacityMilli: 2_000,
  windowMs: 0,
  costPerCall: 1,
};
const rpm = fullBucket(RPM, T0);
const slots: BucketState = {
  ...fullBucket(SLOTS, T0),
  tokensMilli: 1_000,
  leases: { 'lease-1': { costMilli: 1_000, expiresAtMs: T0 + 60_000 } },
};
const vendor = (pk: string, version = 1): BucketItem => ({
  pk,
  version,
  buckets: { rpm, 'location-writes': slots },
  templates: {
    'per.key': { limitType: 'requests', capacityMilli: 1_000, windowMs: 1_000, costPerCall: 1 },
  },
  writers: {},
});
const OP = { writer: 'client-a.0', seq: T0 };

/** One table of cases run against every BucketStore (STYLE: one test table, every store). */
export function describeBucketStoreContract(name: string, makeStore: () => Promise<BucketStore>): void {
  describe(`${name} honours the BucketStore contract`, () => {
    let store: BucketStore;
    beforeEach(async () => {
      store = await makeStore();
    });

    it('reads nothing for an absent item', async () => {
      expect(await store.get('nobody')).toBeUndefined();
    });

    it('creates an item once and hands the existing one to a second creator', async () => {
      expect(await store.create(vendor('openai'))).toEqual({ ok: true });
      expect(await store.create({ ...vendor('openai'), buckets: {} })).toEqual({
        ok: false,
        current: vendor('openai'),
      });
      expect(await store.get('openai')).toEqual(vendor('openai'));
    });

    it('writes the named entries on the version seen, bumps the version and keeps the other entries', async () => {
      await store.create(vendor('openai'));
      const taken = { ...rpm, tokensMilli: 59_000 };
      expect(await store.write({ pk: 'openai', expectedVersion: 1, buckets: { rpm: taken } })).toEqual({
        ok: true,
      });
      expect(await store.get('openai')).toEqual({
        ...vendor('openai', 2),
        buckets: { rpm: taken, 'location-writes': slots },
      });
    });

    it('keeps the rate scale of a penalized bucket (two integers) through a write and a read', async () => {
      await store.create(vendor('openai'));
      const penalized = { ...rpm, tokensMilli: 12_345, rateScalePermille: 437, rateScaleAtMs: T0 + 1_234 };
      expect(await store.write({ pk: 'openai', expectedVersion: 1, buckets: { rpm: penalized } })).toEqual({
        ok: true,
      });
      expect((await store.get('openai'))?.buckets.rpm).toEqual(penalized);
    });

    it('refuses a write on a stale version and returns the current item, so the retry needs no read', async () => {
      await store.create(vendor('openai', 7));
      expect(await store.write({ pk: 'openai', expectedVersion: 6, buckets: { rpm } })).toEqual({
        ok: false,
        current: vendor('openai', 7),
      });
    });

    it('refuses a versioned write on an absent item without creating it', async () => {
      expect(await store.write({ pk: 'ghost', expectedVersion: 1, buckets: { rpm } })).toEqual({
        ok: false,
        current: undefined,
      });
      expect(await store.get('ghost')).toBeUndefined();
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

    it('answers a repeat of an applied versioned write as the first, applying nothing more', async () => {
      await store.create(vendor('openai'));
      const write = {
        pk: 'openai',
        expectedVersion: 1,
        buckets: { rpm: { ...rpm, tokensMilli: 59_000 } },
        op: OP,
      };
      expect(await store.write(write)).toEqual({ ok: true });
      const applied = await store.get('openai');
      expect(await store.write(write)).toEqual({ ok: true });
      expect(await store.get('openai')).toEqual(applied);
      expect(applied?.writers).toEqual({ [OP.writer]: OP.seq });
      // The same lane's next op on the version it saw is a write like any other.
      expect(await store.write({ ...write, op: { ...OP, seq: OP.seq + 1 } })).toEqual({
        ok: false,
        current: applied,
      });
    });

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

    it('answers a repeat of an applied transaction as the first, writing nothing more', async () => {
      await store.create(vendor('a'));
      await store.create(vendor('b', 3));
      const writes = [
        { pk: 'a', expectedVersion: 1, buckets: { rpm: { ...rpm, tokensMilli: 1 } }, op: OP },
        { pk: 'b', expectedVersion: 3, buckets: { rpm: { ...rpm, tokensMilli: 2 } }, op: OP },
      ];
      expect(await store.writeAll(writes)).toEqual({ ok: true });
      const applied = [await store.get('a'), await store.get('b')];
      expect(await store.writeAll(writes)).toEqual({ ok: true });
      expect([await store.get('a'), await store.get('b')]).toEqual(applied);
    });

    it('forgets the writers it is told to, keeping the others', async () => {
      await store.create({ ...vendor('openai'), writers: { old: T0 - 1, kept: T0 } });
      expect(await store.write({ pk: 'openai', expectedVersion: 1, forgetWriters: ['old'] })).toEqual({
        ok: true,
      });
      expect((await store.get('openai'))?.writers).toEqual({ kept: T0 });
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

    it('writes several items all together when every version matches', async () => {
      await store.create(vendor('a'));
      await store.create(vendor('b', 3));
      const taken = { ...rpm, tokensMilli: 1 };
      const outcome = await store.writeAll([
        { pk: 'a', expectedVersion: 1, buckets: { rpm: taken } },
        { pk: 'b', expectedVersion: 3, templates: {} },
      ]);
      expect(outcome).toEqual({ ok: true });
      expect([(await store.get('a'))?.buckets.rpm, (await store.get('b'))?.version]).toEqual([taken, 4]);
    });

    it('writes nothing when one item of a transaction changed, and returns that item as it is', async () => {
      await store.create(vendor('a'));
      await store.create(vendor('b', 3));
      const outcome = await store.writeAll([
        { pk: 'a', expectedVersion: 1, buckets: { rpm: { ...rpm, tokensMilli: 0 } } },
        { pk: 'b', expectedVersion: 2, buckets: { rpm: { ...rpm, tokensMilli: 0 } } },
      ]);
      expect(outcome).toEqual({ ok: false, current: new Map([['b', vendor('b', 3)]]) });
      expect([await store.get('a'), await store.get('b')]).toEqual([vendor('a'), vendor('b', 3)]);
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
