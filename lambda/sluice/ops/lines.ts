import type { AcquireResult, Granted } from '../core/types';
import type { AcquireOptions } from './acquire-options';

/**
 * Lines inside one process (a Lambda environment running a pool of callers), one per bucket
 * that refused one of its callers (and per product, `lineKey`); `SluiceClient.lines()` makes
 * them over the client.
 *
 * Every caller refused by a bucket computes the same wait (the SDK answers each caller as if
 * it were alone), so callers sleeping side by side would all wake at once, one would win and
 * the rest would be refused again. Instead they queue: the caller at the head of the line
 * sleeps its wait and acquires once more; the ones behind wait their turn without acquiring. A
 * caller that is granted or gives up leaves the line and the next one's turn begins. A caller
 * waiting in line holds no vendor slot, and never blocks the other callers' calls.
 *
 * For a `concurrent` bucket the SDK's wait is only a guess (a release may come sooner): when a
 * caller of this process is done with a lease of that dimension (`done`), the head's sleep ends
 * at once (or, if the head is not asleep yet, its next sleep does not start). And when that
 * caller's grant was of that one dimension alone, the lease is not released but parked here,
 * and the head's next acquire of the same costs gets it: as it is, with no write at all, when
 * the lease outlives the time the new holder may keep it (`holdUntilMs`: for the worker, its
 * slot deadline plus the margin in which a call is aborted and released, which a lease granted
 * in the same invocation always outlives, its lifetime being at least the slot timeout plus that
 * margin); otherwise by the SDK's `handOver`, one write that renews the expiry. Either way no
 * other caller can take the slot in between (docs/worker.md, "Hand-overs inside the pool"). A
 * parked lease nobody claims is released: when the line empties, or when an acquire of other
 * costs names its dimension.
 */
const LINE_SEPARATOR = '\u0000';

/**
 * One line per bucket and product: a bucket with shares tells each product its own wait, so a
 * product's callers never wait behind another product's in this process either
 * (docs/worker.md, "Fair shares"). Callers without a product share the bucket's line.
 */
function lineKey(dimension: string, product: string | undefined): string {
  return product === undefined ? dimension : `${dimension}${LINE_SEPARATOR}${product}`;
}

/** An acquire through the lines: the SDK's options, and until when the caller may hold a lease. */
export interface LineAcquireOptions extends AcquireOptions {
  /**
   * The latest the caller may hold a lease (for the worker: its slot deadline plus the margin in
   * which a call is aborted and released). A parked lease that outlives it is passed on without a
   * write. @default none: a parked lease is always handed over with the SDK's `handOver`
   */
  readonly holdUntilMs?: number;
}

/** What the lines acquire from: a `SluiceClient`, or anything that fronts one (a wrapper that counts its calls). */
export interface LineSource {
  acquire(costs: Readonly<Record<string, number>>, options?: AcquireOptions): Promise<AcquireResult>;
  /** The SDK's `handOver`; absent: no lease is parked, every one is released. */
  handOver?(grant: Granted, options?: AcquireOptions): Promise<Granted | undefined>;
}

export interface BucketLinesOptions {
  /** Gives a lease back (must not throw). @default `grant.release()` */
  readonly release?: (grant: Granted) => Promise<void>;
  /** Told of each lease passed on without a write. @default nothing */
  readonly passedOn?: (grant: Granted) => void;
}

export interface Turn {
  /** Whether callers were ahead in the line: the wait computed on arrival is then stale. */
  readonly waitedInLine: boolean;
  /** Sleeps `ms` with `sleep`, ending early when this process is done with a lease of the dimension. */
  sleep(ms: number, sleep: (ms: number) => Promise<void>): Promise<void>;
  /** Leaves the line (granted, or giving up): the next caller's turn begins. Idempotent. */
  leave(): void;
}

interface Place {
  readonly admit: () => void;
  wake?: () => void;
  /** A wake that came while this head was not asleep: its next sleep ends at once. */
  woken?: boolean;
}

export class BucketLines {
  private readonly lines = new Map<string, Place[]>();
  private readonly parked = new Map<string, Granted>();
  private readonly releasing = new Set<Promise<void>>();
  private readonly release: (grant: Granted) => Promise<void>;
  private readonly passedOn: (grant: Granted) => void;

  constructor(
    private readonly source: LineSource,
    options: BucketLinesOptions = {},
  ) {
    this.release = options.release ?? ((grant) => grant.release());
    this.passedOn = options.passedOn ?? (() => {});
  }

  /**
   * Joins the line for `dimension`; resolves with the turn once every caller ahead has left,
   * or with undefined when `giveUp` settles first (the caller has then left the line).
   */
  async join(dimension: string, giveUp: () => Promise<void>, product?: string): Promise<Turn | undefined> {
    const key = lineKey(dimension, product);
    let admit: () => void = () => {};
    const admitted = new Promise<'turn'>((resolve) => {
      admit = () => resolve('turn');
    });
    const place: Place = { admit };
    const line = this.lines.get(key) ?? [];
    line.push(place);
    this.lines.set(key, line);
    const waitedInLine = line.length > 1;
    if (!waitedInLine) place.admit();
    const outcome = waitedInLine
      ? await Promise.race([admitted, giveUp().then(() => 'gave up' as const)])
      : 'turn';
    if (outcome !== 'turn') {
      // The turn may have come in the same tick: leaving passes it on either way.
      this.leave(key, dimension, place);
      return undefined;
    }
    let left = false;
    return {
      waitedInLine,
      sleep: async (ms, sleep) => {
        if (place.woken) {
          place.woken = false;
          return;
        }
        const woken = new Promise<void>((resolve) => {
          place.wake = resolve;
        });
        try {
          await Promise.race([sleep(ms), woken]);
        } finally {
          place.wake = undefined;
          place.woken = false;
        }
      },
      leave: () => {
        if (left) return;
        left = true;
        this.leave(key, dimension, place);
      },
    };
  }

  /**
   * A caller is done with its grant's leases: a lease of one `concurrent` dimension alone, with a
   * caller waiting in that dimension's line, is parked for that caller's acquire (`park`); any
   * other is released. Either way the heads of the lines of its dimensions stop sleeping (`wake`).
   */
  async done(grant: Granted): Promise<void> {
    const leased = grant.leases.map((lease) => lease.dimension);
    const [only] = leased;
    const parked =
      only !== undefined &&
      this.source.handOver !== undefined &&
      Object.keys(grant.costs).length === 1 &&
      this.park(only, grant);
    if (!parked) await this.release(grant);
    for (const dimension of leased) this.wake(dimension);
  }

  /** This process is done with a lease of `dimension`: the head's sleep ends (or its next one does not start). */
  wake(dimension: string): void {
    for (const key of this.keysOf(dimension)) {
      const head = this.lines.get(key)?.[0];
      if (!head) continue;
      if (head.wake) head.wake();
      else head.woken = true;
    }
  }

  /** Records in the lines for `dimension` now (the heads included), every product's. */
  length(dimension: string): number {
    return this.keysOf(dimension).reduce((sum, key) => sum + (this.lines.get(key)?.length ?? 0), 0);
  }

  private keysOf(dimension: string): string[] {
    return [...this.lines.keys()].filter(
      (key) => key === dimension || key.startsWith(`${dimension}${LINE_SEPARATOR}`),
    );
  }

  /**
   * Keeps `grant` (held, of the `concurrent` dimension `dimension` alone) for the line's next
   * acquire instead of releasing it. False (nothing kept: release it) when nobody waits in the
   * line or a lease is parked there already.
   */
  park(dimension: string, grant: Granted): boolean {
    if (this.length(dimension) === 0 || this.parked.has(dimension)) return false;
    this.parked.set(dimension, grant);
    return true;
  }

  /**
   * An acquire through the lines: costs equal to a parked grant's are handed that grant's lease
   * (`handOver`); a parked lease that cannot be handed over is released first and the acquire
   * goes on as usual, as does one naming other costs.
   */
  async acquire(
    costs: Readonly<Record<string, number>>,
    lineOptions?: LineAcquireOptions,
  ): Promise<AcquireResult> {
    const { holdUntilMs, ...options } = lineOptions ?? {};
    const sluice = this.source;
    for (const dimension of Object.keys(costs)) {
      const grant = this.parked.get(dimension);
      if (!grant) continue;
      this.parked.delete(dimension);
      if (
        holdUntilMs !== undefined &&
        sameCosts(grant.costs, costs) &&
        grant.leases.every((lease) => lease.expiresAtMs >= holdUntilMs)
      ) {
        // The lease outlives the new holder's use of it: still held, nothing to write.
        this.passedOn(grant);
        return grant;
      }
      if (sluice.handOver && sameCosts(grant.costs, costs)) {
        let next: Granted | undefined;
        try {
          next = await sluice.handOver(grant, options);
        } catch (error) {
          // Unknown whether it was applied: the old lease is released if it is still held, and a
          // new one nobody knows of is reclaimed at its expiry (docs/design.md, invariant 3).
          await this.release(grant);
          throw error;
        }
        if (next) return next;
      }
      await this.release(grant);
    }
    return sluice.acquire(costs, options);
  }

  /** Waits for the releases of parked leases nobody claimed (the end of an invocation). */
  async settled(): Promise<void> {
    while (this.releasing.size > 0) await Promise.all(this.releasing);
  }

  private leave(key: string, dimension: string, place: Place): void {
    const line = this.lines.get(key);
    if (!line) return;
    const index = line.indexOf(place);
    if (index < 0) return;
    line.splice(index, 1);
    if (line.length === 0) {
      this.lines.delete(key);
      if (this.length(dimension) === 0) this.releaseParked(dimension);
    } else if (index === 0) line[0]?.admit();
  }

  /** Nobody is left to claim it: the parked lease goes back to the bucket. */
  private releaseParked(dimension: string): void {
    const grant = this.parked.get(dimension);
    if (!grant) return;
    this.parked.delete(dimension);
    const done = this.release(grant).finally(() => this.releasing.delete(done));
    this.releasing.add(done);
  }
}

function sameCosts(a: Readonly<Record<string, number>>, b: Readonly<Record<string, number>>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k]);
}
