import type { Granted } from '../../lambda/sluice';
import type { SluicePort } from '../../lambda/worker/ports';
import { BucketLines } from '../../lambda/worker/warm/bucket-lines';
import { runPool } from '../../lambda/worker/warm/pool';

/** A promise the test settles by hand: no timers, the order of events is the test's. */
function deferred<T = void>() {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Lets every promise callback that can run, run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('runPool', () => {
  it('runs at most `limit` items at once, starting them in order as slots free up', async () => {
    const gates = Array.from({ length: 6 }, () => deferred());
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const done = runPool({
      items: [0, 1, 2, 3, 4, 5],
      limit: 3,
      canStart: () => true,
      run: async (item) => {
        started.push(item);
        most = Math.max(most, ++running);
        await gates[item]!.promise;
        running -= 1;
      },
      skip: async () => {
        throw new Error('nothing is skipped while there is time');
      },
    });
    await settle();
    expect(started).toEqual([0, 1, 2]);
    gates[1]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const gate of gates) gate.resolve();
    await done;
    expect([started, most]).toEqual([[0, 1, 2, 3, 4, 5], 3]);
  });

  it('once an item may not start, skips it and every later one, in order, and starts nothing more', async () => {
    let starts = 2;
    const ran: string[] = [];
    const skipped: string[] = [];
    await runPool({
      items: ['a', 'b', 'c', 'd', 'e'],
      limit: 2,
      canStart: () => starts-- > 0,
      run: async (item) => {
        ran.push(item);
      },
      skip: async (item) => {
        skipped.push(item);
      },
    });
    expect({ ran, skipped }).toEqual({ ran: ['a', 'b'], skipped: ['c', 'd', 'e'] });
  });

  it('reads its limit again as slots free up: a larger limit starts more at once, a smaller one starts none until below it', async () => {
    const gates = Array.from({ length: 8 }, () => deferred());
    const started: number[] = [];
    let slots = 2;
    const done = runPool({
      items: [0, 1, 2, 3, 4, 5, 6, 7],
      limit: () => slots,
      canStart: () => true,
      run: async (item) => {
        started.push(item);
        await gates[item]!.promise;
      },
      skip: async () => {},
    });
    await settle();
    expect(started).toEqual([0, 1]);
    slots = 4;
    gates[0]!.resolve();
    await settle();
    // One slot freed, and the limit grew by two: three more start, four are running.
    expect(started).toEqual([0, 1, 2, 3, 4]);
    slots = 2;
    gates[1]!.resolve();
    gates[2]!.resolve();
    await settle();
    // Two running (3 and 4) is the limit: nothing more starts.
    expect(started).toEqual([0, 1, 2, 3, 4]);
    gates[3]!.resolve();
    await settle();
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    for (const gate of gates) gate.resolve();
    await done;
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('refuses a pool without slots', async () => {
    await expect(
      runPool({ items: [1], limit: 0, canStart: () => true, run: async () => {}, skip: async () => {} }),
    ).rejects.toThrow('the pool needs a whole number of slots ≥ 1 (got 0)');
  });
});

describe('BucketLines', () => {
  const never = () => new Promise<void>(() => {});

  it('gives the turn to one record at a time, first come first served; the others wait without acquiring', async () => {
    const lines = new BucketLines();
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

  it("keeps one line per product: a product's record never waits behind another product's", async () => {
    const lines = new BucketLines();
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

  it('lets a record give up its place; the line goes on without it', async () => {
    const lines = new BucketLines();
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
    const lines = new BucketLines();
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
    const lines = new BucketLines();
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

  /** The SDK's port over a ledger of leases (the real SDK's hand-over is tested on both stores). */
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
    const port: SluicePort = {
      acquire: async (request) => {
        calls.push(`acquire ${JSON.stringify(request)}`);
        return grantOf(`a${nextId++}`, request);
      },
      penalize: async () => ({}),
      resync: async () => undefined,
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

  it('parks a lease only while a record waits in the line, and hands it to the next acquire of the same costs', async () => {
    const { calls, port, grantOf } = ledger();
    const lines = new BucketLines();
    expect(lines.park('s#concurrent', grantOf('old'))).toBe(false);
    const head = await lines.join('s#concurrent', never);
    expect(lines.park('s#concurrent', grantOf('old'))).toBe(true);
    expect(lines.park('s#concurrent', grantOf('other'))).toBe(false);
    const granted = await lines.acquire(port, costs);
    expect(granted.outcome === 'Granted' && granted.leases[0]?.leaseId).toBe('h0');
    // Claimed once: the next acquire goes to the SDK.
    await lines.acquire(port, costs);
    head?.leave();
    await lines.settled();
    expect(calls).toEqual(['handOver old', 'acquire {"s#concurrent":1}']);
  });

  it('releases a parked lease when nothing was handed over, or the hand-over failed, and acquires', async () => {
    const { calls, port, grantOf, answer } = ledger();
    const lines = new BucketLines();
    const head = await lines.join('s#concurrent', never);
    lines.park('s#concurrent', grantOf('reclaimed'));
    answer('nothing');
    await lines.acquire(port, costs);
    lines.park('s#concurrent', grantOf('lost'));
    answer('throw');
    await expect(lines.acquire(port, costs)).rejects.toThrow('store unavailable');
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
    const lines = new BucketLines();
    const head = await lines.join('s#concurrent', never);
    lines.park('s#concurrent', grantOf('first'));
    await lines.acquire(port, { 's#concurrent': 2 });
    lines.park('s#concurrent', grantOf('second'));
    head?.leave();
    await lines.settled();
    expect(calls).toEqual(['release first', 'acquire {"s#concurrent":2}', 'release second']);
  });

  it('passes a parked lease on as it is, with no write, when it outlives the new holder; else hands it over', async () => {
    const { calls, port, grantOf } = ledger();
    const passed: string[] = [];
    const lines = new BucketLines(undefined, (grant) => passed.push(grant.leases[0]!.leaseId));
    const head = await lines.join('s#concurrent', never);
    // The lease lasts until 60 s; the next holder may keep it until 40 s: passed on as it is.
    const lasting = grantOf('lasting', costs, 60_000);
    lines.park('s#concurrent', lasting);
    expect(await lines.acquire(port, costs, { holdUntilMs: 40_000 })).toBe(lasting);
    // Until 70 s: the lease would expire while held, so the SDK renews it (one write).
    lines.park('s#concurrent', grantOf('short', costs, 60_000));
    const renewed = await lines.acquire(port, costs, { holdUntilMs: 70_000 });
    expect(renewed.outcome === 'Granted' && renewed.leases[0]?.leaseId).toBe('h0');
    head?.leave();
    await lines.settled();
    expect({ passed, calls }).toEqual({ passed: ['lasting'], calls: ['handOver short'] });
  });
});
