/**
 * The simulator's own limit: a token bucket that refills continuously (capacity per window),
 * the model OpenAI documents and Sluice uses. A fixed or sliding window of the same limit
 * would refuse a correctly paced burst-then-refill; see docs/vendor.md.
 */
export class SimulatorBucket {
  private tokens: number;
  private atMs: number | undefined;

  constructor(
    readonly capacity: number,
    readonly windowSeconds: number,
  ) {
    this.tokens = capacity;
  }

  get refillPerSecond(): number {
    return this.capacity / this.windowSeconds;
  }

  /** Whether `cost` fits now, allowing `graceMs` of refill for early arrival; nothing is taken. */
  fits(cost: number, nowMs: number, graceMs: number): boolean {
    this.refill(nowMs);
    return cost <= this.capacity && this.tokens + (this.refillPerSecond * graceMs) / 1000 >= cost;
  }

  take(cost: number, nowMs: number): void {
    this.refill(nowMs);
    this.tokens -= cost;
  }

  /** Seconds until `cost` fits; Infinity when it never can. */
  waitSeconds(cost: number, nowMs: number): number {
    this.refill(nowMs);
    if (cost > this.capacity) return Number.POSITIVE_INFINITY;
    return Math.max(0, (cost - this.tokens) / this.refillPerSecond);
  }

  remaining(nowMs: number): number {
    this.refill(nowMs);
    return Math.max(0, Math.floor(this.tokens));
  }

  /** Seconds until the bucket is full again (OpenAI's `x-ratelimit-reset-*`). */
  resetSeconds(nowMs: number): number {
    this.refill(nowMs);
    return Math.max(0, (this.capacity - this.tokens) / this.refillPerSecond);
  }

  private refill(nowMs: number): void {
    if (this.atMs === undefined || nowMs <= this.atMs) {
      // A clock that steps back never adds tokens.
      this.atMs = Math.max(this.atMs ?? nowMs, nowMs);
      return;
    }
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.atMs) / 1000) * this.refillPerSecond);
    this.atMs = nowMs;
  }
}

/** Go duration text as OpenAI sends it: "20ms", "1s", "6m0s", "12.5s". */
export function formatGoDuration(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round((seconds - minutes * 60) * 1000) / 1000;
  return minutes > 0 ? `${minutes}m${rest}s` : `${rest}s`;
}

/** Whole seconds for Retry-After, at least 1 (a client that waits 0 comes straight back). */
export function retryAfterHeader(waitSeconds: number): string {
  return String(Math.max(1, Math.ceil(waitSeconds)));
}
