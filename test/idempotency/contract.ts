import type { BeginResult, IdempotencyStore } from '../../lambda/idempotency/store';

/**
 * The idempotency store's contract as one table of cases, run over every store: the memory one
 * (memory-store.unit.test.ts) and the DynamoDB one on DynamoDB Local (dynamo-store.test.ts). A
 * store that passes here can stand in for the other in the worker's tests.
 */

export interface StoreUnderTest {
  readonly store: IdempotencyStore;
  readonly done: () => Promise<void>;
}

/**
 * Owners handed out in order (`owner-1`, `owner-2`, …). How many a store draws is its own affair
 * (the DynamoDB store draws one per begin, before it knows the answer), so the cases only ask
 * that a start carries an owner no earlier start had.
 */
export function countingOwners(): () => string {
  let next = 0;
  return () => {
    next += 1;
    return `owner-${next}`;
  };
}

const T0 = 1_700_000_000_000;
const LEASE_MS = 60_000;
const outcome = (label: string) => JSON.stringify({ id: 'm-1', status: label });

const STARTED = { state: 'started', owner: expect.stringMatching(/^owner-\d+$/) };

function ownerOf(result: BeginResult): string {
  if (result.state !== 'started') throw new Error(`expected a start, got ${result.state}`);
  return result.owner;
}

type Case = readonly [string, (store: IdempotencyStore) => Promise<void>];

const CASES: readonly Case[] = [
  [
    'starts a new id, with an owner of its own',
    async (store) => {
      const first = await store.begin('m-1', T0, T0 + LEASE_MS);
      const second = await store.begin('m-2', T0, T0 + LEASE_MS);
      expect([first, second]).toEqual([STARTED, STARTED]);
      expect(ownerOf(first)).not.toBe(ownerOf(second));
    },
  ],
  [
    'refuses a live claim of another delivery until its expiry, and takes it over once it passed',
    async (store) => {
      const first = await store.begin('m-1', T0, T0 + LEASE_MS);
      expect(await store.begin('m-1', T0 + 1, T0 + 1 + LEASE_MS)).toEqual({
        state: 'in_progress',
        expiresAtMs: T0 + LEASE_MS,
      });
      // At the expiry itself the claim still holds; one millisecond later its holder is taken for dead.
      expect((await store.begin('m-1', T0 + LEASE_MS, T0 + 2 * LEASE_MS)).state).toBe('in_progress');
      const takeover = await store.begin('m-1', T0 + LEASE_MS + 1, T0 + 2 * LEASE_MS);
      expect(takeover).toEqual(STARTED);
      expect(ownerOf(takeover)).not.toBe(ownerOf(first));
    },
  ],
  [
    'ends a completed id for good, with its outcome unpublished, then published',
    async (store) => {
      await store.begin('m-1', T0, T0 + LEASE_MS);
      await store.complete('m-1', T0 + 10, outcome('completed'));
      // Any age: a completed id counts whatever time it is.
      const later = T0 + 30 * 86_400_000;
      expect(await store.begin('m-1', later, later + LEASE_MS)).toEqual({
        state: 'ended',
        outcome: { json: outcome('completed'), published: false },
      });
      await store.markPublished('m-1');
      expect(await store.begin('m-1', later, later + LEASE_MS)).toEqual({
        state: 'ended',
        outcome: { json: outcome('completed'), published: true },
      });
    },
  ],
  [
    'ends a completion recorded without an outcome, with none',
    async (store) => {
      await store.complete('m-1', T0);
      expect(await store.begin('m-1', T0 + 1, T0 + LEASE_MS)).toEqual({ state: 'ended' });
    },
  ],
  [
    'completes whoever holds the claim (the vendor answered 2xx)',
    async (store) => {
      await store.begin('m-1', T0, T0 + LEASE_MS);
      await store.complete('m-1', T0 + 1, outcome('completed'));
      expect((await store.begin('m-1', T0 + 2, T0 + LEASE_MS)).state).toBe('ended');
    },
  ],
  [
    'records a dead letter over a claim or nothing; once its outcome is published the id may start again',
    async (store) => {
      await store.begin('m-1', T0, T0 + LEASE_MS);
      expect(await store.deadLettered('m-1', T0 + 1, outcome('dead_lettered'))).toEqual({
        json: outcome('dead_lettered'),
        published: false,
      });
      expect(await store.begin('m-1', T0 + 2, T0 + LEASE_MS)).toEqual({
        state: 'ended',
        outcome: { json: outcome('dead_lettered'), published: false },
      });
      await store.markPublished('m-1');
      // An operator redriving the DLQ: the id starts again.
      expect(await store.begin('m-1', T0 + 3, T0 + LEASE_MS)).toEqual(STARTED);
      expect(await store.deadLettered('never-claimed', T0, outcome('dead_lettered'))).toEqual({
        json: outcome('dead_lettered'),
        published: false,
      });
    },
  ],
  [
    'keeps one final outcome per id: a completion wins over a dead letter, a first dead letter over a second',
    async (store) => {
      await store.complete('m-1', T0, outcome('completed'));
      expect(await store.deadLettered('m-1', T0 + 1, outcome('dead_lettered'))).toEqual({
        json: outcome('completed'),
        published: false,
      });
      expect(await store.begin('m-1', T0 + 2, T0 + LEASE_MS)).toEqual({
        state: 'ended',
        outcome: { json: outcome('completed'), published: false },
      });
      await store.complete('m-2', T0);
      expect(await store.deadLettered('m-2', T0 + 1, outcome('dead_lettered'))).toBeUndefined();
      await store.deadLettered('m-3', T0, outcome('first'));
      await store.markPublished('m-3');
      expect(await store.deadLettered('m-3', T0 + 1, outcome('second'))).toEqual({
        json: outcome('first'),
        published: true,
      });
    },
  ],
  [
    'gives up only its own claim: the next delivery starts at once; another owner or an ended id is left alone',
    async (store) => {
      const first = await store.begin('m-1', T0, T0 + LEASE_MS);
      await store.abandon('m-1', 'owner-other');
      expect((await store.begin('m-1', T0 + 1, T0 + LEASE_MS)).state).toBe('in_progress');
      await store.abandon('m-1', ownerOf(first));
      const again = await store.begin('m-1', T0 + 2, T0 + LEASE_MS);
      expect(again).toEqual(STARTED);
      await store.complete('m-1', T0 + 3, outcome('completed'));
      await store.abandon('m-1', ownerOf(again));
      expect((await store.begin('m-1', T0 + 4, T0 + LEASE_MS)).state).toBe('ended');
      await expect(store.abandon('never-seen', 'owner-1')).resolves.toBeUndefined();
    },
  ],
  [
    'marks nothing where no outcome is stored: an unknown id, a claim',
    async (store) => {
      await expect(store.markPublished('never-seen')).resolves.toBeUndefined();
      await store.begin('m-1', T0, T0 + LEASE_MS);
      await store.markPublished('m-1');
      expect(await store.begin('m-1', T0 + 1, T0 + LEASE_MS)).toEqual({
        state: 'in_progress',
        expiresAtMs: T0 + LEASE_MS,
      });
    },
  ],
  [
    'claims several ids at once, each deciding as its own begin would',
    async (store) => {
      await store.complete('m-done', T0, outcome('completed'));
      await store.begin('m-live', T0, T0 + 10 * LEASE_MS);
      await store.begin('m-expired', T0, T0 + 1);
      await store.deadLettered('m-redriven', T0, outcome('dead_lettered'));
      await store.markPublished('m-redriven');
      await store.deadLettered('m-unpublished', T0, outcome('dead_lettered'));
      const now = T0 + 1_000;
      const ids = ['m-new', 'm-done', 'm-live', 'm-expired', 'm-redriven', 'm-unpublished', 'm-new-2'];
      const results = await store.beginAll(ids, now, now + LEASE_MS);
      expect(ids.map((id) => results.get(id))).toEqual([
        STARTED,
        { state: 'ended', outcome: { json: outcome('completed'), published: false } },
        { state: 'in_progress', expiresAtMs: T0 + 10 * LEASE_MS },
        STARTED,
        STARTED,
        { state: 'ended', outcome: { json: outcome('dead_lettered'), published: false } },
        STARTED,
      ]);
      const owners = ['m-new', 'm-expired', 'm-redriven', 'm-new-2'].map((id) => ownerOf(results.get(id)!));
      expect(new Set(owners).size).toBe(owners.length);
      // Each claim holds as a begin's would: until its expiry, and its owner may give it back.
      expect(await store.begin('m-new', now + 1, now + LEASE_MS)).toEqual({
        state: 'in_progress',
        expiresAtMs: now + LEASE_MS,
      });
      await store.abandon('m-new', ownerOf(results.get('m-new')!));
      expect(await store.begin('m-new', now + 2, now + LEASE_MS)).toEqual(STARTED);
    },
  ],
  [
    'claims more ids than one request carries, every one of them',
    async (store) => {
      const ids = Array.from({ length: 60 }, (_, i) => `m-${i}`);
      const results = await store.beginAll(ids, T0, T0 + LEASE_MS);
      expect(ids.map((id) => results.get(id)?.state)).toEqual(ids.map(() => 'started'));
      expect((await store.begin('m-59', T0 + 1, T0 + LEASE_MS)).state).toBe('in_progress');
    },
  ],
  [
    'refuses an id named twice in one claim of several, and claims nothing then',
    async (store) => {
      await expect(store.beginAll(['m-1', 'm-2', 'm-1'], T0, T0 + LEASE_MS)).rejects.toThrow(
        /distinct ids; "m-1" is named twice/,
      );
      expect(await store.begin('m-1', T0, T0 + LEASE_MS)).toEqual(STARTED);
    },
  ],
];

/** Runs the contract's table over one store; `make` builds a fresh, empty store per case. */
export function describeIdempotencyContract(name: string, make: () => Promise<StoreUnderTest>): void {
  describe(`the idempotency store contract: ${name}`, () => {
    it.each(CASES)('%s', async (_, run) => {
      const { store, done } = await make();
      try {
        await run(store);
      } finally {
        await done();
      }
    });
  });
}
