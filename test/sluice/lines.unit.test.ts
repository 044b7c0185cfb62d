import { BucketLines, type Granted, type LineSource } from '../../lambda/sluice';
import { granted } from './fixtures';
import { deferred, memoryClient, settle } from './helpers';

/**
 * The lines one process's callers of the SDK share (`SluiceClient.lines()`): one turn at a time
 * per bucket and product, and a concurrent lease passed to the next in line without a release
 * and an acquire.
 */

describe('BucketLines', () => {
  const never = () => new Promise<void>(() => {});
  /** The lines' own turns ask the SDK nothing. */
  const noAcquire: LineSource = { acquire: () => Promise.reject(new Error('no acquire in this test')) };

  it('gives the turn to one caller at a time, first come first served; the others wait without acquiring', async () => {
    const lines = new BucketLines(noAcquire);
    const first = await lines.join('x#rpm', never);
    const order: string[] = [];
    const second = lines.join('x#rpm', never).then((turn) => {
      order.push('second');
      return turn;
    });
    const third = lines.join('x#rpm', never).then((turn) => {
      order.push('third');
      return turn;
    });
    await settle();
    expect([first?.waitedInLine, order, lines.length('x#rpm')]).toEqual([false, [], 3]);
    first?.leave();
    const secondTurn = await second;
    await settle();
    expect([secondTurn?.waitedInLine, order]).toEqual([true, ['second']]);
    secondTurn?.leave();
    secondTurn?.leave();
    (await third)?.leave();
    expect([order, lines.length('x#rpm')]).toEqual([['second', 'third'], 0]);
  });

  it("keeps one line per product: a product's caller never waits behind another product's", async () => {
    const lines = new BucketLines(noAcquire);
    const batch = await lines.join('x#rpm', never, 'batch');
    const batchBehind = lines.join('x#rpm', never, 'batch');
    // checkout's first record has the turn at once, though batch's line is busy.
    const checkout = await lines.join('x#rpm', never, 'checkout');
    expect([batch?.waitedInLine, checkout?.waitedInLine, lines.length('x#rpm')]).toEqual([false, false, 3]);
    // A lease of the bucket released here wakes every product's head.
    let woke = 0;
    const sleeps = [batch, checkout].map((turn) => turn?.sleep(60_000, never).then(() => woke++));
    lines.wake('x#rpm');
    await Promise.all(sleeps);
    expect(woke).toBe(2);
    batch?.leave();
    expect((await batchBehind)?.waitedInLine).toBe(true);
  });

  it('lets a caller give up its place; the line goes on without it', async () => {
    const lines = new BucketLines(noAcquire);
    const head = await lines.join('x#rpm', never);
    const giveUp = deferred();
    const quitter = lines.join('x#rpm', () => giveUp.promise);
    const patient = lines.join('x#rpm', never);
    giveUp.resolve();
    expect(await quitter).toBeUndefined();
    head?.leave();
    expect((await patient)?.waitedInLine).toBe(true);
  });

  it("ends the head's sleep when a lease of its bucket is released here, and only the head's", async () => {
    const lines = new BucketLines(noAcquire);
    const head = await lines.join('s#concurrent', never);
    let woke = false;
    const sleeping = head?.sleep(60_000, never).then(() => {
      woke = true;
    });
    lines.wake('other#concurrent');
    await settle();
    expect(woke).toBe(false);
    lines.wake('s#concurrent');
    await sleeping;
    expect(woke).toBe(true);
  });

  it('a wake that comes while the head is not asleep ends its next sleep at once', async () => {
    const lines = new BucketLines(noAcquire);
    const head = await lines.join('s#concurrent', never);
    lines.wake('s#concurrent');
    await head?.sleep(60_000, never);
    // Used once: the sleep after it sleeps again.
    let woke = false;
    void head?.sleep(60_000, never).then(() => {
      woke = true;
    });
    await settle();
    expect(woke).toBe(false);
  });
});

describe('BucketLines hand-overs', () => {
  const never = () => new Promise<void>(() => {});
  const costs = { 's#concurrent': 1 };

  /** A stand-in for the SDK over a ledger of leases (the real SDK's hand-over is tested on both stores). */
  function ledger() {
    const calls: string[] = [];
    let nextId = 0;
    const grantOf = (
      leaseId: string,
      cost: Readonly<Record<string, number>> = costs,
      expiresAtMs = 0,
    ): Granted => ({
      outcome: 'Granted',
      costs: cost,
      tokenDimensions: [],
      leases: [{ dimension: 's#concurrent', leaseId, cost: 1, expiresAtMs }],
      grantedAtMs: 0,
      release: async () => {
        calls.push(`release ${leaseId}`);
      },
      settle: async () => {},
    });
    let handOverAnswer: 'grant' | 'nothing' | 'throw' = 'grant';
    const port: LineSource = {
      acquire: async (request) => {
        calls.push(`acquire ${JSON.stringify(request)}`);
        return grantOf(`a${nextId++}`, request);
      },
      handOver: async (grant) => {
        calls.push(`handOver ${grant.leases[0]?.leaseId}`);
        if (handOverAnswer === 'throw') throw new Error('store unavailable');
        return handOverAnswer === 'grant' ? grantOf(`h${nextId++}`) : undefined;
      },
    };
    return {
      calls,
      port,
      grantOf,
      answer: (a: typeof handOverAnswer) => {
        handOverAnswer = a;
      },
    };
  }

  it('parks a lease only while a caller waits in the line, and hands it to the next acquire of the same costs', async () => {
    const { calls, port, grantOf } = ledger();
    const lines = new BucketLines(port);
    expect(lines.park('s#concurrent', grantOf('old'))).toBe(false);
    const head = await lines.join('s#concurrent', never);
    expect(lines.park('s#concurrent', grantOf('old'))).toBe(true);
    expect(lines.park('s#concurrent', grantOf('other'))).toBe(false);
    const granted = await lines.acquire(costs);
    expect(granted.outcome === 'Granted' && granted.leases[0]?.leaseId).toBe('h0');
    // Claimed once: the next acquire goes to the SDK.
    await lines.acquire(costs);
    head?.leave();
    await lines.settled();
    expect(calls).toEqual(['handOver old', 'acquire {"s#concurrent":1}']);
  });

  it('releases a parked lease when nothing was handed over, or the hand-over failed, and acquires', async () => {
    const { calls, port, grantOf, answer } = ledger();
    const lines = new BucketLines(port);
    const head = await lines.join('s#concurrent', never);
    lines.park('s#concurrent', grantOf('reclaimed'));
    answer('nothing');
    await lines.acquire(costs);
    lines.park('s#concurrent', grantOf('lost'));
    answer('throw');
    await expect(lines.acquire(costs)).rejects.toThrow('store unavailable');
    head?.leave();
    expect(calls).toEqual([
      'handOver reclaimed',
      'release reclaimed',
      'acquire {"s#concurrent":1}',
      'handOver lost',
      'release lost',
    ]);
  });

  it('releases a parked lease before an acquire of other costs, and when the line empties unclaimed', async () => {
    const { calls, port, grantOf } = ledger();
    const lines = new BucketLines(port);
    const head = await lines.join('s#concurrent', never);
    lines.park('s#concurrent', grantOf('first'));
    await lines.acquire({ 's#concurrent': 2 });
    lines.park('s#concurrent', grantOf('second'));
    head?.leave();
    await lines.settled();
    expect(calls).toEqual(['release first', 'acquire {"s#concurrent":2}', 'release second']);
  });

  it('passes a parked lease on as it is, with no write, when it outlives the new holder; else hands it over', async () => {
    const { calls, port, grantOf } = ledger();
    const passed: string[] = [];
    const lines = new BucketLines(port, { passedOn: (grant) => passed.push(grant.leases[0]!.leaseId) });
    const head = await lines.join('s#concurrent', never);
    // The lease lasts until 60 s; the next holder may keep it until 40 s: passed on as it is.
    const lasting = grantOf('lasting', costs, 60_000);
    lines.park('s#concurrent', lasting);
    expect(await lines.acquire(costs, { holdUntilMs: 40_000 })).toBe(lasting);
    // Until 70 s: the lease would expire while held, so the SDK renews it (one write).
    lines.park('s#concurrent', grantOf('short', costs, 60_000));
    const renewed = await lines.acquire(costs, { holdUntilMs: 70_000 });
    expect(renewed.outcome === 'Granted' && renewed.leases[0]?.leaseId).toBe('h0');
    head?.leave();
    await lines.settled();
    expect({ passed, calls }).toEqual({ passed: ['lasting'], calls: ['handOver short'] });
  });

  it('done: parks a lone concurrent lease for a caller waiting in its line, releases any other, and wakes the head', async () => {
    const { calls, port, grantOf } = ledger();
    const lines = new BucketLines(port);
    // Nobody waits: released.
    await lines.done(grantOf('alone'));
    const head = await lines.join('s#concurrent', never);
    let woke = false;
    const sleeping = head?.sleep(60_000, never).then(() => {
      woke = true;
    });
    await lines.done(grantOf('parked'));
    await sleeping;
    // A grant of more than the concurrent dimension: released, though a caller waits.
    await lines.done(grantOf('pair', { 's#concurrent': 1, 's#rpm': 1 }));
    const next = await lines.acquire(costs);
    head?.leave();
    await lines.settled();
    expect({ woke, calls, next: next.outcome === 'Granted' && next.leases[0]?.leaseId }).toEqual({
      woke: true,
      calls: ['release alone', 'release pair', 'handOver parked'],
      next: 'h0',
    });
  });

  it('done: releases every lease when what the lines acquire from cannot hand one over', async () => {
    const { calls, port, grantOf } = ledger();
    const lines = new BucketLines({ acquire: port.acquire });
    const head = await lines.join('s#concurrent', never);
    await lines.done(grantOf('lone'));
    head?.leave();
    await lines.settled();
    expect(calls).toEqual(['release lone']);
  });
});

describe('SluiceClient.lines', () => {
  const never = () => new Promise<void>(() => {});
  const slots = { 'sweeppea#slots': 1 };

  it('passes a concurrent slot from one caller to the next in its line in one write, the slot never falling free', async () => {
    const { client, store } = memoryClient({ settings: { leaseTtlSeconds: 60 } });
    await client.upsertBuckets([{ dimension: 'sweeppea#slots', limitType: 'concurrent', capacity: 1 }]);
    const lines = client.lines();
    const first = granted(await lines.acquire(slots));
    expect((await lines.acquire(slots)).outcome).toBe('RetryIn');
    const turn = await lines.join('sweeppea#slots', never);
    await lines.done(first);
    const before = { ...store.requests };
    const next = granted(await lines.acquire(slots));
    turn?.leave();
    await lines.settled();
    expect([
      store.requests.handOverLeases - before.handOverLeases,
      store.requests.returnLease - before.returnLease,
      next.leases[0]?.leaseId === first.leases[0]?.leaseId,
    ]).toEqual([1, 0, false]);
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 0, leases: 1 });
    await next.release();
    expect(await client.snapshot('sweeppea#slots')).toMatchObject({ tokens: 1, leases: 0 });
  });
});
