import { runPool } from '../../lambda/worker/warm/pool';
import { deferred, settle } from '../sluice/helpers';

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
