/**
 * How many record pipelines the pool runs at once, learnt from what the vendor does
 * (docs/worker.md, "The pool"). Little's law: calls in flight ≈ admitted rate × latency. The
 * sizer measures both in the warm environment, the calls started over the last seconds and
 * the latency of the answers, and keeps `headroom` × that plus one record waiting for the
 * bucket, between `floor` and `maxInFlight`.
 *
 * While the pool is what holds the rate back, the rate it measures is the pool's own
 * (pool ÷ latency), so the target is `headroom` × the pool: it grows by half each time until
 * the buckets bind, and then settles at headroom × allowed rate × latency. A fast vendor keeps
 * a small pool (few records sleeping in the buckets' lines); a slow one gets the pool its quota
 * needs without `maxInFlight` set by hand. A `concurrent` bucket still decides what reaches
 * the vendor: the pool only bounds the records that wait, sleep or call.
 *
 * It also knows when a call has hung: an attempt of a request safe to repeat is cut at
 * `hangFactor` × the slow end of the latencies seen (never below `minHangTimeoutMs`, never
 * above the request timeout), so a hang holds its pool slot (and the invocation's end) for a
 * few typical answers, not for the whole request timeout. Pure: the caller passes the instants.
 */
export interface PoolSizeOptions {
  /** The pool's upper bound (`vendor.maxInFlight`). */
  readonly maxInFlight: number;
  /** Slots before any answer was seen. @default 4 (at most maxInFlight) */
  readonly initial?: number;
  /** Target over the Little's-law estimate. @default 1.5 */
  readonly headroom?: number;
  /** How far back call starts count toward the rate. @default 10,000 ms */
  readonly rateWindowMs?: number;
  /** Answers seen before the hang timeout applies. @default 20 */
  readonly hangSamples?: number;
  /** The hang timeout over the slow end of the latencies. @default 4 */
  readonly hangFactor?: number;
  /** The hang timeout is never shorter. @default 2,000 ms */
  readonly minHangTimeoutMs?: number;
}

/** Weight of each new latency in the running averages (about the last 10 answers). */
const LATENCY_WEIGHT = 0.1;
const DEFAULT_INITIAL = 4;

export class PoolSizer {
  private readonly starts: number[] = [];
  private meanMs: number | undefined;
  /** Running mean of the absolute deviation: mean + 4 × this is the slow end of the answers. */
  private deviationMs = 0;
  private samples = 0;
  readonly maxInFlight: number;
  private readonly initial: number;
  private readonly floor: number;
  private readonly headroom: number;
  private readonly rateWindowMs: number;
  private readonly hangSamples: number;
  private readonly hangFactor: number;
  private readonly minHangTimeoutMs: number;

  constructor(options: PoolSizeOptions) {
    const { maxInFlight } = options;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
      throw new RangeError(`the pool needs a whole number of slots ≥ 1 (got ${maxInFlight})`);
    }
    this.maxInFlight = maxInFlight;
    this.initial = Math.min(maxInFlight, Math.max(1, Math.floor(options.initial ?? DEFAULT_INITIAL)));
    // Never below 2 (one calling, one waiting for the bucket), unless the bound says 1.
    this.floor = Math.min(maxInFlight, 2);
    this.headroom = options.headroom ?? 1.5;
    this.rateWindowMs = options.rateWindowMs ?? 10_000;
    this.hangSamples = options.hangSamples ?? 20;
    this.hangFactor = options.hangFactor ?? 4;
    this.minHangTimeoutMs = options.minHangTimeoutMs ?? 2_000;
  }

  /** A vendor call started at `atMs` (granted, on its way). */
  callStarted(atMs: number): void {
    this.starts.push(atMs);
    this.forget(atMs);
  }

  /** The vendor answered one attempt after `latencyMs` (not a hang cut short, not a failure to connect). */
  answered(latencyMs: number): void {
    if (!Number.isFinite(latencyMs) || latencyMs < 0) return;
    this.samples += 1;
    if (this.meanMs === undefined) {
      this.meanMs = latencyMs;
      this.deviationMs = latencyMs / 2;
      return;
    }
    this.deviationMs += LATENCY_WEIGHT * (Math.abs(latencyMs - this.meanMs) - this.deviationMs);
    this.meanMs += LATENCY_WEIGHT * (latencyMs - this.meanMs);
  }

  /** Calls started per second over the last `rateWindowMs` (over at least 1 s and one latency). */
  ratePerSecond(nowMs: number): number {
    this.forget(nowMs);
    if (this.starts.length === 0) return 0;
    const spanMs = Math.max(nowMs - (this.starts[0] as number), 1_000, this.meanMs ?? 0);
    return (this.starts.length * 1000) / spanMs;
  }

  /** The typical answer time so far; undefined before the first. */
  latencyMs(): number | undefined {
    return this.meanMs;
  }

  /** Slots the pool may fill at `nowMs`. */
  limit(nowMs: number): number {
    if (this.meanMs === undefined) return this.initial;
    const inFlight = (this.ratePerSecond(nowMs) * this.meanMs) / 1000;
    const target = Math.ceil(inFlight * this.headroom) + 1;
    return Math.max(this.floor, Math.min(this.maxInFlight, target));
  }

  /**
   * How long one attempt of a request safe to repeat may go unanswered before it counts as
   * hung and is cut (then repeated like any failed attempt, granted again): undefined until
   * `hangSamples` answers were seen, and never above `requestTimeoutMs`.
   */
  hangTimeoutMs(requestTimeoutMs: number): number | undefined {
    if (this.meanMs === undefined || this.samples < this.hangSamples) return undefined;
    const slowEndMs = this.meanMs + 4 * this.deviationMs;
    const timeoutMs = Math.max(this.minHangTimeoutMs, Math.ceil(this.hangFactor * slowEndMs));
    return timeoutMs < requestTimeoutMs ? timeoutMs : undefined;
  }

  private forget(nowMs: number): void {
    const oldest = nowMs - this.rateWindowMs;
    let drop = 0;
    while (drop < this.starts.length && (this.starts[drop] as number) <= oldest) drop += 1;
    if (drop > 0) this.starts.splice(0, drop);
  }
}
