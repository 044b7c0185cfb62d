import {
  type AcquireResult,
  BucketLines,
  type Granted,
  type LineAcquireOptions,
  type Turn,
} from '../../sluice';
import { PoolSizer } from '../policy/pool-size';
import type { SluicePort } from '../ports';

/** What the warm environment is told of, besides the SDK it acquires from. */
export interface WarmEnvironmentOptions {
  /** The pool's ceiling (`VendorSettings.maxInFlight`). */
  readonly maxInFlight: number;
  /** Gives a lease back (must not throw: a failure is logged, the lease reclaimed at its expiry). */
  readonly release: (grant: Granted) => Promise<void>;
  /** Told of each lease passed on in the pool without a write. */
  readonly passedOn?: (grant: Granted) => void;
  /** The vendor client readying itself at cold start: the first acquires wait for it. */
  readonly warming?: Promise<void>;
}

/**
 * What one Lambda environment keeps while it is warm, for every record and invocation it runs:
 * the last vendor 429 per dimension, the vendor calls in flight now and the pool's size learnt
 * from them (pool-size.ts), and the pool's lines per bucket with their parked leases (the SDK's
 * `BucketLines`, built over the worker's port to the SDK, so a wrapper of the port sees every
 * acquire). The steps of a record change it only through these methods.
 */
export class WarmEnvironment {
  private readonly lastRateLimitAtMs = new Map<string, number>();
  private readonly lines: BucketLines;
  private readonly poolSize: PoolSizer;
  private inFlight = 0;

  constructor(
    sluice: SluicePort,
    private readonly options: WarmEnvironmentOptions,
  ) {
    this.lines = new BucketLines(sluice, {
      release: options.release,
      ...(options.passedOn ? { passedOn: options.passedOn } : {}),
    });
    this.poolSize = new PoolSizer({ maxInFlight: options.maxInFlight });
  }

  /**
   * The SDK's acquire as the pool's records make it: once the HTTP client is warm, and through
   * the lines (costs equal to a parked lease's are handed that lease).
   */
  async acquire(
    costs: Readonly<Record<string, number>>,
    options?: LineAcquireOptions,
  ): Promise<AcquireResult> {
    await this.options.warming;
    return this.lines.acquire(costs, options);
  }

  /** Joins the line for a bucket that refused (`BucketLines.join`). */
  joinLine(dimension: string, giveUp: () => Promise<void>, product?: string): Promise<Turn | undefined> {
    return this.lines.join(dimension, giveUp, product);
  }

  /** Records of the pool in the lines for `dimension` now (the heads included). */
  waiting(dimension: string): number {
    return this.lines.length(dimension);
  }

  /**
   * A record is done with its grant's leases: a lease of one concurrent dimension alone, with a
   * record of the pool waiting for it, is kept for that record's acquire (which the SDK's
   * handOver turns into one write); any other is released (`BucketLines.done`).
   */
  leasesDone(grant: Granted): Promise<void> {
    return this.lines.done(grant);
  }

  /** Waits for the releases of parked leases nobody claimed (the end of an invocation). */
  settled(): Promise<void> {
    return this.lines.settled();
  }

  /** Notes a vendor 429 on `dimension` at `nowMs`; answers when the one before it came, if any. */
  rateLimited(dimension: string, nowMs: number): number | undefined {
    const previous = this.lastRateLimitAtMs.get(dimension);
    this.lastRateLimitAtMs.set(dimension, nowMs);
    return previous;
  }

  /** A vendor call starts: answers the calls now in flight, this one included. */
  callStarted(nowMs: number): number {
    this.inFlight += 1;
    this.poolSize.callStarted(nowMs);
    return this.inFlight;
  }

  /** A vendor call ended, whatever its answer. */
  callEnded(): void {
    this.inFlight -= 1;
  }

  /** The vendor's service time of a call: a success in one attempt (pool-size.ts). */
  answered(serviceMs: number): void {
    this.poolSize.answered(serviceMs);
  }

  /** The pool's size now (pool-size.ts). */
  poolLimit(nowMs: number): number {
    return this.poolSize.limit(nowMs);
  }

  /** A call's hang timeout, learnt from the vendor's latency (pool-size.ts). */
  hangTimeoutMs(requestTimeoutMs: number): number | undefined {
    return this.poolSize.hangTimeoutMs(requestTimeoutMs);
  }
}
