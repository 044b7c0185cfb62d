import { SluiceClient } from '../../lambda/sluice/client';
import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { RecordingLogger, SimulatedClock, seededRandom, testSettings } from './helpers';

/**
 * A store that serves one request per simulated millisecond: fifty callers arriving together
 * see their answers spread over fifty milliseconds, longer than one unit of refill takes on a
 * bucket of 50 per second (20 ms), as on a loaded DynamoDB. The interleaving is the event
 * loop's: every caller reads, then every caller writes.
 */
class PacedStore implements BucketStore {
  constructor(
    private readonly inner: BucketStore,
    private readonly clock: SimulatedClock,
  ) {}
  private pace<A extends unknown[], R>(call: (...args: A) => Promise<R>) {
    return async (...args: A): Promise<R> => {
      this.clock.advance(1);
      return call(...args);
    };
  }
  get = this.pace((pk: string) => this.inner.get(pk));
  create = this.pace((...a: Parameters<BucketStore['create']>) => this.inner.create(...a));
  write = this.pace((...a: Parameters<BucketStore['write']>) => this.inner.write(...a));
  writeAll = this.pace((...a: Parameters<BucketStore['writeAll']>) => this.inner.writeAll(...a));
  takeStored = this.pace((...a: Parameters<BucketStore['takeStored']>) => this.inner.takeStored(...a));
  handOverLeases = this.pace((...a: Parameters<BucketStore['handOverLeases']>) =>
    this.inner.handOverLeases(...a),
  );
  returnLease = this.pace((...a: Parameters<BucketStore['returnLease']>) => this.inner.returnLease(...a));
  scan = this.pace((...a: Parameters<BucketStore['scan']>) => this.inner.scan(...a));
  sweep = this.pace((...a: Parameters<BucketStore['sweep']>) => this.inner.sweep(...a));
  markForSweep = this.pace((pk: string) => this.inner.markForSweep(pk));
}

async function burst(callers: number) {
  const clock = new SimulatedClock();
  const store = new PacedStore(new MemoryBucketStore(), clock);
  const client = (seed: number) =>
    new SluiceClient({
      settings: testSettings(),
      store,
      clock: clock.now,
      random: seededRandom(seed),
      logger: new RecordingLogger(),
    });
  const admin = client(0);
  await admin.upsertBuckets([
    { dimension: 'burst#rpm', limitType: 'requests', capacity: 50, windowSeconds: 1 },
  ]);
  // Well past a full window: the bucket is full and its last refill long ago.
  clock.advance(5_000);
  const startMs = clock.now();
  const results = await Promise.all(
    Array.from({ length: callers }, (_, i) => client(i + 1).acquire({ 'burst#rpm': 1 })),
  );
  const elapsedMs = clock.now() - startMs;
  const granted = results.filter((r) => r.outcome === 'Granted').length;
  return { granted, elapsedMs, left: (await admin.snapshot('burst#rpm')).tokens };
}

describe('a burst of callers arriving together on a full bucket', () => {
  it('grants nearly all of them from one shared refill, and never more than the bucket allows', async () => {
    const { granted, elapsedMs, left } = await burst(50);
    // Capacity plus the refill over the burst's span bounds the grants (no over-admission)...
    expect(granted).toBeLessThanOrEqual(50 + Math.floor((elapsedMs * 50) / 1000));
    // ...and conflicts no longer cost the callers the bucket: each retry takes from the stored
    // tokens the winner's refill left, on the item the failed write handed back.
    expect(granted).toBeGreaterThanOrEqual(45);
    expect(left).toBeGreaterThanOrEqual(0);
  });
});
