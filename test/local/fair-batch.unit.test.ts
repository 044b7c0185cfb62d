import fc from 'fast-check';
import { type Candidate, chooseFairBatch } from '../../local/event-source/fair-batch';
import { FairWindow, fairWindowOptions } from '../../local/event-source/fair-window';

const candidates = fc
  .array(fc.option(fc.constantFrom('a', 'b', 'c', 'd'), { nil: undefined }), { maxLength: 40 })
  .map((groups): Candidate[] => groups.map((group, index) => ({ id: `m${index}`, group })));
const lastServed = fc
  .uniqueArray(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 4 })
  .chain((groups) =>
    fc
      .uniqueArray(fc.nat(1_000), { minLength: groups.length, maxLength: groups.length })
      .map((picks) => new Map(groups.map((group, index) => [group, picks[index] ?? 0]))),
  );

/** A message without a group is a tenant of its own. */
const tenantOf = (candidate: Candidate) => candidate.group ?? `own:${candidate.id}`;

describe('chooseFairBatch, the local equivalent of SQS fair queues', () => {
  it('takes min(batchSize, candidates) distinct candidates, each group oldest first, and no group more than one place ahead of a group it left waiting', () => {
    fc.assert(
      fc.property(candidates, fc.integer({ min: 1, max: 12 }), lastServed, (all, batchSize, served) => {
        const chosen = chooseFairBatch(all, batchSize, served);
        const byId = new Map(all.map((candidate) => [candidate.id, candidate]));
        expect(new Set(chosen).size).toBe(chosen.length);
        expect(chosen.every((id) => byId.has(id))).toBe(true);
        expect(chosen).toHaveLength(Math.min(batchSize, all.length));

        const tenants = new Map<string, { waiting: string[]; taken: string[] }>();
        for (const candidate of all) {
          const tenant = tenants.get(tenantOf(candidate)) ?? { waiting: [], taken: [] };
          tenant.waiting.push(candidate.id);
          tenants.set(tenantOf(candidate), tenant);
        }
        for (const id of chosen) {
          const candidate = byId.get(id);
          if (candidate) tenants.get(tenantOf(candidate))?.taken.push(id);
        }
        for (const { waiting, taken } of tenants.values()) {
          expect(taken).toEqual(waiting.slice(0, taken.length));
        }
        const places = [...tenants.values()];
        for (const left of places.filter(({ waiting, taken }) => taken.length < waiting.length)) {
          for (const other of places) expect(other.taken.length).toBeLessThanOrEqual(left.taken.length + 1);
        }
      }),
    );
  });

  it('hands the odd place to the group served longest ago', () => {
    const backlog: Candidate[] = [
      ...Array.from({ length: 6 }, (_, i) => ({ id: `a${i}`, group: 'a' })),
      ...Array.from({ length: 6 }, (_, i) => ({ id: `b${i}`, group: 'b' })),
    ];
    expect(chooseFairBatch(backlog, 5, new Map())).toEqual(['a0', 'b0', 'a1', 'b1', 'a2']);
    expect(
      chooseFairBatch(
        backlog,
        5,
        new Map([
          ['a', 4],
          ['b', 3],
        ]),
      ),
    ).toEqual(['b0', 'a0', 'b1', 'a1', 'b2']);
  });

  it('puts the few messages of a quiet group in the first batch behind a backlog of another', () => {
    const queue: Candidate[] = [
      ...Array.from({ length: 150 }, (_, i) => ({ id: `batch-${i}`, group: 'batch' })),
      { id: 'checkout-0', group: 'checkout' },
      { id: 'checkout-1', group: 'checkout' },
    ];
    expect(chooseFairBatch(queue, 5, new Map())).toEqual([
      'batch-0',
      'checkout-0',
      'batch-1',
      'checkout-1',
      'batch-2',
    ]);
  });
});

describe('fairWindowOptions', () => {
  it('holds a message at most the visibility timeout less two function timeouts', () => {
    expect(fairWindowOptions({ lookaheadMessages: 200, visibilityTimeoutSeconds: 360 }, 60)).toEqual({
      lookaheadMessages: 200,
      holdLimitSeconds: 240,
    });
  });

  it('names every problem at once', () => {
    expect(() => fairWindowOptions({ lookaheadMessages: 0, visibilityTimeoutSeconds: 60 }, 30)).toThrow(
      'fairQueue.lookaheadMessages must be a positive integer (got 0); fairQueue.visibilityTimeoutSeconds must be over twice the function timeout of 30 s (got 60)',
    );
  });
});

describe('FairWindow', () => {
  const message = (id: string, product?: string) => ({
    MessageId: id,
    ReceiptHandle: `r-${id}`,
    Body: JSON.stringify(product === undefined ? { id } : { id, product }),
  });

  it('gives back, as overdue, the messages held for the hold limit, and only those', () => {
    const window = new FairWindow({ lookaheadMessages: 10, holdLimitSeconds: 5 });
    window.hold([message('old', 'a')], 0);
    window.hold([message('new', 'a')], 2_000);
    expect(window.overdue(4_999)).toEqual([]);
    expect(window.overdue(5_000).map((m) => m.MessageId)).toEqual(['old']);
    expect(window.take(10).map((m) => m.MessageId)).toEqual(['new']);
    expect(window.size).toBe(0);
  });

  it('holds a message received again once, and groups by the product in the body', () => {
    const window = new FairWindow({ lookaheadMessages: 10, holdLimitSeconds: 5 });
    window.hold([message('a1', 'a'), message('a2', 'a'), message('b1', 'b'), message('a1', 'a')], 0);
    expect(window.take(3).map((m) => m.MessageId)).toEqual(['a1', 'b1', 'a2']);
  });
});
