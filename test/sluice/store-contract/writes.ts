import type { BucketStore } from '../../../lambda/sluice/store/bucket-store';
import { OP, rpm, slots, T0, vendor } from './fixtures';

/** Reads, creations, versioned writes, transactions, and repeats of an applied write. */
export function describeWriteContract(makeStore: () => Promise<BucketStore>): void {
  describe('reads, creations, versioned writes and transactions', () => {
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
  });
}
