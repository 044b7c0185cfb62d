import type { BucketDefinition } from '../../lambda/sluice/core/types';
import { isSluiceInputError } from '../../lambda/sluice/errors';
import { granted } from './fixtures';
import { memoryClient } from './helpers';

/** `handOver`: a held concurrent lease passed to the next holder in one write (docs/design.md, "Handing a lease over"). */

const DEFINITIONS: BucketDefinition[] = [
  { dimension: 'sweeppea#slots', limitType: 'concurrent', capacity: 1 },
  { dimension: 'sweeppea#rpm', limitType: 'requests', capacity: 60, windowSeconds: 60 },
];

async function setUp() {
  const h = memoryClient({ settings: { leaseTtlSeconds: 60 } });
  await h.client.upsertBuckets(DEFINITIONS);
  return h;
}

describe('handOver', () => {
  it('gives the next holder a new lease with a fresh expiry in one write, the slot never falling free', async () => {
    const { client, store, clock } = await setUp();
    const first = granted(await client.acquire('sweeppea#slots'));
    clock.advance(10_000);
    const writes = { ...store.requests };
    const next = await client.handOver(first);
    expect(store.requests.handOverLeases - writes.handOverLeases).toBe(1);
    expect(store.requests.returnLease + store.requests.write + store.requests.takeStored).toBe(
      writes.returnLease + writes.write + writes.takeStored,
    );
    expect(next?.costs).toEqual({ 'sweeppea#slots': 1 });
    expect(next?.leases).toHaveLength(1);
    expect(next?.leases[0]?.leaseId).not.toBe(first.leases[0]?.leaseId);
    expect(next?.leases[0]?.expiresAtMs).toBe(first.leases[0]!.expiresAtMs + 10_000);
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 0, leases: 1 });
    // Capacity 1 stays taken: nobody else is granted while the new holder holds it.
    expect((await client.acquire('sweeppea#slots')).outcome).toBe('RetryIn');
  });

  it("makes the old grant's release return nothing and the new grant's release return the slot", async () => {
    const { client } = await setUp();
    const first = granted(await client.acquire('sweeppea#slots'));
    const next = await client.handOver(first);
    await first.release();
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 0, leases: 1 });
    await next?.release();
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 1, leases: 0 });
    granted(await client.acquire('sweeppea#slots'));
  });

  it('answers undefined when the lease was reclaimed after expiry: nothing is handed over', async () => {
    const { client, clock } = await setUp();
    const first = granted(await client.acquire('sweeppea#slots'));
    clock.advance(120_000);
    expect((await client.reconcile()).restored).toBe(1);
    const other = granted(await client.acquire('sweeppea#slots'));
    expect(await client.handOver(first)).toBeUndefined();
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 0, leases: 1 });
    await other.release();
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 1, leases: 0 });
  });

  it('answers undefined while a lowered capacity is below the leases held, and the old grant still releases', async () => {
    const { client } = await setUp();
    await client.upsertBuckets([{ dimension: 'sweeppea#slots', limitType: 'concurrent', capacity: 2 }]);
    const first = granted(await client.acquire('sweeppea#slots'));
    const second = granted(await client.acquire('sweeppea#slots'));
    await client.upsertBuckets([{ dimension: 'sweeppea#slots', limitType: 'concurrent', capacity: 1 }]);
    expect(await client.handOver(first)).toBeUndefined();
    await first.release();
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 0, leases: 1 });
    // Back within capacity: the remaining lease may be passed on.
    expect((await client.handOver(second))?.leases).toHaveLength(1);
  });

  it('answers two hand-overs of one grant at once with the same new grant, written once', async () => {
    const { client, store } = await setUp();
    const first = granted(await client.acquire('sweeppea#slots'));
    const before = store.requests.handOverLeases;
    const [a, b] = await Promise.all([client.handOver(first), client.handOver(first)]);
    expect([store.requests.handOverLeases - before, a === b, a?.leases.length]).toEqual([1, true, 1]);
  });

  it('refuses a grant with a requests dimension: its cost must be charged again by an acquire', async () => {
    const { client } = await setUp();
    const both = granted(await client.acquire({ 'sweeppea#slots': 1, 'sweeppea#rpm': 1 }));
    const error = await client.handOver(both).catch((e: unknown) => e);
    expect(isSluiceInputError(error) && error.message).toMatch(/sweeppea#rpm is a requests bucket/);
    await both.release();
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 1, leases: 0 });
  });

  it('refuses a released grant, a grant handed over already, and a grant of another client', async () => {
    const { client } = await setUp();
    const released = granted(await client.acquire('sweeppea#slots'));
    await released.release();
    const handed = granted(await client.acquire('sweeppea#slots'));
    await (await client.handOver(handed))?.release();
    const other = (await setUp()).client;
    const held = granted(await client.acquire('sweeppea#slots'));
    for (const [grant, by] of [
      [released, client],
      [handed, client],
      [held, other],
    ] as const) {
      const error = await by.handOver(grant).catch((e: unknown) => e);
      expect(isSluiceInputError(error)).toBe(true);
    }
  });
});
