/**
 * The vendor simulator's public shapes. Three profiles, each a kind of limit a real vendor
 * enforces (docs/vendor.md, "Profiles"):
 * `sweeppea` (one request at a time per endpoint, 503 when busy, 429 per minute),
 * `waitwhile` (5 requests/s with 429, 1 write/s per location with 409),
 * `openai` (requests and tokens per minute with `x-ratelimit-*` headers and Retry-After).
 */
export type SimulatorProfileName = 'sweeppea' | 'waitwhile' | 'openai';

export const SIMULATOR_PROFILES: readonly SimulatorProfileName[] = ['sweeppea', 'waitwhile', 'openai'];

/** The true limits a profile enforces; each profile reads only its own fields. */
export interface SimulatorLimits {
  /** sweeppea: calls in flight per endpoint. */
  readonly concurrentPerEndpoint: number;
  /** sweeppea and openai: requests per minute. */
  readonly requestsPerMinute: number;
  /** waitwhile: requests per second. */
  readonly requestsPerSecond: number;
  /** waitwhile: writes per second per location. */
  readonly locationWritesPerSecond: number;
  /** openai: tokens per minute. */
  readonly tokensPerMinute: number;
}

export const DEFAULT_LIMITS: Readonly<Record<SimulatorProfileName, SimulatorLimits>> = {
  sweeppea: {
    concurrentPerEndpoint: 1,
    requestsPerMinute: 60,
    requestsPerSecond: 0,
    locationWritesPerSecond: 0,
    tokensPerMinute: 0,
  },
  waitwhile: {
    concurrentPerEndpoint: 0,
    requestsPerMinute: 0,
    requestsPerSecond: 5,
    locationWritesPerSecond: 1,
    tokensPerMinute: 0,
  },
  openai: {
    concurrentPerEndpoint: 0,
    requestsPerMinute: 500,
    requestsPerSecond: 0,
    locationWritesPerSecond: 0,
    tokensPerMinute: 40_000,
  },
};

export interface SimulatorFaults {
  /** Share of admitted requests answered with a 500 (0–1). */
  readonly errorRate?: number;
  /** Share of requests answered `slowMs` later than the service time. */
  readonly slowRate?: number;
  /** @default 2000 */
  readonly slowMs?: number;
  /** Share of requests whose socket is destroyed without an answer. */
  readonly dropRate?: number;
  /** Share of requests never answered (until the client gives up or the server stops). */
  readonly hangRate?: number;
  /** The vendor is down: every connection is dropped before an answer, as an outage would. */
  readonly down?: boolean;
  /** The vendor refuses every key (401), as after a revoked or rotated key. */
  readonly keyRevoked?: boolean;
}

/** A stretch of the simulator's time, in seconds from its start. */
export interface SimulatorWindow {
  readonly fromSeconds: number;
  readonly forSeconds: number;
}

/** Faults on a timetable: the vendor goes down, or refuses the key, and comes back (`--down-from S --down-for S`). */
export interface SimulatorSchedule {
  readonly down?: SimulatorWindow;
  readonly keyRevoked?: SimulatorWindow;
}

export interface SimulatorOptions {
  readonly profile: SimulatorProfileName;
  /** @default 0 (a free port) */
  readonly port?: number;
  /** Reads the time for the limits and the timeline; inject one to drive windows without waiting. @default Date.now */
  readonly clock?: () => number;
  readonly faults?: SimulatorFaults;
  /** Outages and key revocations on a timetable, measured on `clock` from the start. */
  readonly schedule?: SimulatorSchedule;
  /** Overrides of the true limits, e.g. a chosen L for benchmarks. */
  readonly limits?: Partial<SimulatorLimits>;
  /** Draws for the faults, [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Service time of an admitted request. @default 20 */
  readonly latencyMs?: number;
  /** The key every request must carry as `Authorization: Bearer <key>`. @default 'local-dev-key' */
  readonly apiKey?: string;
  /** Header carrying the idempotency key. @default 'Idempotency-Key' */
  readonly idempotencyHeader?: string;
  /**
   * Early arrival a rate limit forgives, in ms of refill: two calls that a client spaced
   * correctly can reach the server a few ms closer together than they were sent (a DynamoDB write or a connection set-up that took longer for the first). @default 50
   */
  readonly graceMs?: number;
  /**
   * A fixed window in front of the profile's own limits, as express-rate-limit keeps one:
   * `limit` requests per `windowSeconds`, anchored at the first request, with the standard
   * `RateLimit` / `RateLimit-Policy` headers on every answer and `Retry-After` on a 429
   * (local/simulator/fixed-window.ts). @default none
   */
  readonly fixedWindow?: { readonly limit: number; readonly windowSeconds: number };
}

export interface SimulatorStats {
  /** Every request received, answered or not. */
  calls: number;
  byStatus: Record<string, number>;
  /** Every 429, 503 and 409 the simulator had to send. */
  refusals: number;
  refusedByStatus: Record<string, number>;
  /** 2xx answers per idempotency key, replays included: above 1 means the client asked again after a success. */
  byIdempotencyKey: Record<string, number>;
  /** 2xx answers that replayed a stored answer (the work was done once). */
  duplicateCompletions: number;
  /** Work actually done: 2xx answers that were not replays. */
  completions: number;
  /** Injected faults by kind. */
  faults: { error: number; slow: number; drop: number; hang: number; down: number; revoked: number };
  /** One entry per request; status 0 for a dropped or hung request. */
  timeline: Array<{ atMs: number; status: number }>;
  /** Requests being handled now, from arrival until the answer is sent or the connection closes. */
  inFlight: number;
  /** The most requests ever handled at once: what a one-at-a-time vendor must never see above 1. */
  maxInFlight: number;
  /** With `fixedWindow`: requests received before a Retry-After the simulator sent had expired. */
  sentBeforeRetryAfter: number;
}

export interface VendorSimulator {
  /** Base URL, e.g. http://127.0.0.1:41234 (no trailing slash). */
  readonly url: string;
  readonly port: number;
  readonly apiKey: string;
  readonly profile: SimulatorProfileName;
  readonly limits: SimulatorLimits;
  stats(): SimulatorStats;
  /** Clears the statistics, refills every limit and forgets stored idempotent answers. */
  reset(): void;
  setFaults(faults: SimulatorFaults): void;
  stop(): Promise<void>;
}
