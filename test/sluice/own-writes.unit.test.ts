import { SluiceClient } from '../../lambda/sluice/client';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { RecordingLogger, SimulatedClock, seededRandom, testSettings } from './helpers';

/**
 * The callers of one client (a pool's records in one worker) on a bucket at its limit. Each
 * answer of the store comes a turn of the event loop later, so the callers' writes overlap as
 * they do on a real table; time is simulated and moves only when every caller sleeps.
 */
class OverlappingStore implements BucketStore {
  failedWrites = 0;
  constructor(private readonly inner: BucketStore) {}
  private later<A extends unknown[], R>(call: (...args: A) => Promise<R>) {
    return async (...args: A): Promise<R> => {
      await new Promise((resolve) => setImmediate(resolve));
      const answer = await call(...args);
      if (typeof answer === 'object' && answer !== null && 'ok' in answer && answer.ok === false) {
        this.failedWrites += 1;
      }
      return answer;
    };
  }
  get = this.later((pk: string) => this.inner.get(pk));
  create = this.later((...a: Parameters<BucketStore['create']>) => this.inner.create(...a));
  write = this.later((...a: Parameters<BucketStore['write']>) => this.inner.write(...a));
  writeAll = this.later((...a: Parameters<BucketStore['writeAll']>) => this.inner.writeAll(...a));
  takeStored = this.later((...a: Parameters<BucketStore['takeStored']>) => this.inner.takeStored(...a));
  handOverLeases = this.later((...a: Parameters<BucketStore['handOverLeases']>) =>
    this.inner.handOverLeases(...a),
  );
  returnLease = this.later((...a: Parameters<BucketStore['returnLease']>) => this.inner.returnLease(...a));
  scan = this.later((...a: Parameters<BucketStore['scan']>) => this.inner.scan(...a));
  sweep = this.later((...a: Parameters<BucketStore['sweep']>) => this.inner.sweep(...a));
  markForSweep = this.later((pk: string) => this.inner.markForSweep(pk));
}

/** Sleepers on the simulated clock; `run` moves time to the next wake-up once all are asleep. */
class Sleepers {
  private readonly waiting: { atMs: number; wake: () => void }[] = [];
  constructor(private readonly clock: SimulatedClock) {}
  sleep = (ms: number) =>
    new Promise<void>((wake) => this.waiting.push({ atMs: this.clock.now() + ms, wake }));
  async run(work: Promise<unknown>): Promise<void> {
    let done = false;
    void work.finally(() => {
      done = true;
    });
    for (let turns = 0; !done; turns++) {
      if (turns > 100_000) throw new Error('the callers neither end nor sleep');
      // Let every caller reach its next sleep (or its end): answers come a turn later each.
      for (let i = 0; i < 50; i++) await new Promise((resolve) => setImmediate(resolve));
      this.waiting.sort((a, b) => a.atMs - b.atMs);
      const next = this.waiting.shift();
      if (!next) {
        if (done) break;
        throw new Error('every caller is waiting on something other than the clock');
      }
      if (next.atMs > this.clock.now()) this.clock.advance(next.atMs - this.clock.now());
      next.wake();
    }
    await work;
  }
}

async function pool(
  callers: number,
  grantsEach: number,
  bucket: { capacity: number; windowSeconds: number },
) {
  const clock = new SimulatedClock();
  const store = new OverlappingStore(new MemoryBucketStore());
  const sleepers = new Sleepers(clock);
  const client = new SluiceClient({
    settings: testSettings(),
    store,
    clock: clock.now,
    random: seededRandom(7),
    logger: new RecordingLogger(),
  });
  await client.upsertBuckets([{ dimension: 'pool#rps', limitType: 'requests', ...bucket }]);
  clock.advance(10_000);
  const startMs = clock.now();
  let granted = 0;
  const caller = async () => {
    for (let done = 0; done < grantsEach; ) {
      const result = await client.acquire({ 'pool#rps': 1 });
      if (result.outcome === 'Granted') {
        granted += 1;
        done += 1;
      } else await sleepers.sleep(result.waitSeconds * 1000);
    }
  };
  await sleepers.run(Promise.all(Array.from({ length: callers }, caller)));
  return { granted, elapsedMs: clock.now() - startMs, failedWrites: store.failedWrites };
}

describe("one client's callers together on a bucket at its limit", () => {
  it('never send a write beside their own that is sure to fail: no failed condition, no unit over the limit', async () => {
    const { granted, elapsedMs, failedWrites } = await pool(8, 5, { capacity: 5, windowSeconds: 1 });
    expect(granted).toBe(40);
    // The bucket's capacity plus its refill over the run bounds the grants.
    expect(granted).toBeLessThanOrEqual(5 + Math.floor((elapsedMs * 5) / 1000));
    expect(failedWrites).toBe(0);
  });

  it('still take a full bucket together, each at its first acquire, where the stored tokens cover them all', async () => {
    const { granted, elapsedMs, failedWrites } = await pool(50, 1, { capacity: 50, windowSeconds: 60 });
    expect(granted).toBe(50);
    expect(failedWrites).toBe(0);
    // Nobody waited for a unit of refill (1.2 s each): the burst was served from what was stored.
    expect(elapsedMs).toBeLessThan(1_200);
  });
});
