/**
 * The vendor circuit as a pure state machine: what one answer, one probe claim or one probe
 * result does to the shared state. No I/O, no clock, no randomness: the caller hands in the
 * time, so every transition is a row of a table test (docs/design.md, "The vendor circuit").
 *
 * - `closed`: calls flow. Consecutive circuit failures (a transport failure, a timeout, a 5xx)
 *   are counted within `windowMs` from the first, once per source (the message that met it):
 *   `failureThreshold` of them from distinct sources open the circuit, so one message whose own
 *   call keeps failing cannot open it for everyone (it ends on its own attempts). Any other
 *   answer (2xx, 429, 409, another 4xx) shows the vendor answering and resets the count.
 * - `open`: no calls. From `nextProbeAtMs` on, the circuit is half-open: the first worker to
 *   claim the probe (a conditional write) makes one call; a success closes the circuit, a
 *   failure reopens it at the same interval. The interval grows (doubled, up to
 *   `maxProbeIntervalMs`) only past `backoffAfterMs` of outage, or when the vendor's own answer
 *   asks for a longer wait (Retry-After on a 503).
 * - `unauthorized`: as `open`, entered by a key the vendor refused after a fresh read.
 * - After a probe's success the circuit is closed with `recoveredAtMs`: for `slowStartMs` the
 *   worker lets only a growing share of deliveries through (`slowStartShare`), so the backlog
 *   comes back through the buckets over a few seconds instead of in one window.
 */

export type CircuitStatus = 'closed' | 'open' | 'unauthorized';

export interface ProbeClaim {
  /** Who claimed the probe slot (one worker's record pipeline). */
  readonly owner: string;
  /** The claim lapses then, so a prober that died does not hold the circuit shut for ever. */
  readonly untilMs: number;
  /**
   * When it was claimed: a failed probe schedules the next one an interval from here, so probes
   * start an interval apart (not an interval plus the call's latency).
   */
  readonly claimedAtMs?: number;
}

export interface CircuitState {
  readonly status: CircuitStatus;
  /** Consecutive circuit failures counted in the current window (closed only). */
  readonly failures: number;
  /** When the first failure of the current window was seen. */
  readonly windowStartedAtMs: number;
  /** When the circuit last opened (open and unauthorized). */
  readonly openedAtMs?: number;
  /** When the next probe may run. */
  readonly nextProbeAtMs?: number;
  /** The current probe interval; doubled after each failed probe, up to the maximum. */
  readonly intervalMs?: number;
  readonly probe?: ProbeClaim;
  /** What opened it (the last failure), for logs and the alarm's reader. */
  readonly detail?: string;
  /** Closed: the sources whose failures are counted in the current window (at most the threshold). */
  readonly sources?: readonly string[];
  /** Closed: when a probe's success closed it; the slow start runs from here. */
  readonly recoveredAtMs?: number;
}

export const CLOSED: CircuitState = { status: 'closed', failures: 0, windowStartedAtMs: 0 };

export interface CircuitRules {
  readonly failureThreshold: number;
  readonly windowMs: number;
  readonly probeIntervalMs: number;
  readonly maxProbeIntervalMs: number;
  /** Failed probes keep `probeIntervalMs` until the outage is this old; then the interval doubles. */
  readonly backoffAfterMs: number;
  /** After a probe's success, the share of deliveries let through grows from a quarter to all over this long. */
  readonly slowStartMs: number;
}

/** The rules from the configuration's seconds (lambda/worker-settings.ts, `circuit`). */
export function circuitRules(settings: {
  readonly failureThreshold: number;
  readonly windowSeconds: number;
  readonly probeIntervalSeconds: number;
  readonly maxProbeIntervalSeconds: number;
  readonly backoffAfterSeconds: number;
  readonly slowStartSeconds: number;
}): CircuitRules {
  return {
    failureThreshold: settings.failureThreshold,
    windowMs: Math.round(settings.windowSeconds * 1000),
    probeIntervalMs: Math.round(settings.probeIntervalSeconds * 1000),
    maxProbeIntervalMs: Math.round(settings.maxProbeIntervalSeconds * 1000),
    backoffAfterMs: Math.round(settings.backoffAfterSeconds * 1000),
    slowStartMs: Math.round(settings.slowStartSeconds * 1000),
  };
}

/** What a vendor answer means for the circuit. */
export type CircuitSignal =
  /** The vendor answered (2xx, 429, 409, another 4xx): it is up. */
  | 'up'
  /** A transport failure, a timeout or a 5xx. */
  | 'failure'
  /** A 401/403 that persisted after the key was read again. */
  | 'unauthorized';

export type CircuitEvent =
  | {
      readonly kind: 'answer';
      readonly signal: CircuitSignal;
      readonly detail?: string;
      /**
       * Who met the answer (a message id): a failure counts once per source in a window.
       * Absent: every failure counts as from a source of its own.
       */
      readonly source?: string;
      /** The vendor's Retry-After on this answer: an opening waits at least that long to probe. */
      readonly retryAfterMs?: number;
    }
  | { readonly kind: 'claim_probe'; readonly owner: string; readonly untilMs: number }
  | {
      readonly kind: 'probe_result';
      readonly owner: string;
      readonly signal: CircuitSignal;
      readonly detail?: string;
      /** The vendor's Retry-After on the probe's answer (a 503 asking for a longer wait). */
      readonly retryAfterMs?: number;
    }
  /** The prober ended without an answer (no capacity, no time): the slot is free again at once. */
  | { readonly kind: 'abandon_probe'; readonly owner: string };

/**
 * The state after `event` at `nowMs`; the same object when nothing changes, so a caller
 * writes only real changes (a closed circuit's successes cost no write).
 */
export function transition(
  state: CircuitState,
  event: CircuitEvent,
  nowMs: number,
  rules: CircuitRules,
): CircuitState {
  switch (event.kind) {
    case 'answer':
      return onAnswer(state, event, nowMs, rules);
    case 'claim_probe':
      if (admission(state, nowMs).kind !== 'probe_due') return state;
      return { ...state, probe: { owner: event.owner, untilMs: event.untilMs, claimedAtMs: nowMs } };
    case 'probe_result':
      if (state.status === 'closed' || state.probe?.owner !== event.owner) return state;
      if (event.signal === 'up') return { ...CLOSED, recoveredAtMs: nowMs };
      return reopen(state, event.signal, event.detail, event.retryAfterMs, nowMs, rules);
    case 'abandon_probe':
      if (state.probe?.owner !== event.owner) return state;
      return withoutProbe(state);
  }
}

function onAnswer(
  state: CircuitState,
  event: Extract<CircuitEvent, { kind: 'answer' }>,
  nowMs: number,
  rules: CircuitRules,
): CircuitState {
  const { signal, detail, source } = event;
  // While open only the probe decides: answers of calls that were in flight when it opened do not.
  if (state.status !== 'closed') return state;
  const recovering = state.recoveredAtMs !== undefined ? { recoveredAtMs: state.recoveredAtMs } : {};
  if (signal === 'up') return state.failures === 0 ? state : { ...CLOSED, ...recovering };
  const firstInterval = withRetryAfter(rules.probeIntervalMs, event.retryAfterMs, rules);
  if (signal === 'unauthorized') return open('unauthorized', firstInterval, detail, nowMs);
  const fresh = state.failures === 0 || nowMs - state.windowStartedAtMs > rules.windowMs;
  const seen = fresh ? [] : (state.sources ?? []);
  // The same source failing again shows its own path broken, not the vendor down: counted once.
  if (source !== undefined && seen.includes(source)) return state;
  const failures = fresh ? 1 : state.failures + 1;
  const windowStartedAtMs = fresh ? nowMs : state.windowStartedAtMs;
  if (failures >= rules.failureThreshold) return open('open', firstInterval, detail, nowMs);
  const sources = source === undefined ? seen : [...seen, source];
  return {
    status: 'closed',
    failures,
    windowStartedAtMs,
    ...(sources.length > 0 ? { sources } : {}),
    ...recovering,
  };
}

/** An interval stretched to the vendor's own Retry-After, never past the maximum. */
function withRetryAfter(intervalMs: number, retryAfterMs: number | undefined, rules: CircuitRules): number {
  if (retryAfterMs === undefined || !(retryAfterMs > intervalMs)) return intervalMs;
  return Math.min(rules.maxProbeIntervalMs, Math.ceil(retryAfterMs));
}

function open(
  status: 'open' | 'unauthorized',
  intervalMs: number,
  detail: string | undefined,
  nowMs: number,
): CircuitState {
  return {
    status,
    failures: 0,
    windowStartedAtMs: 0,
    openedAtMs: nowMs,
    nextProbeAtMs: nowMs + intervalMs,
    intervalMs,
    ...(detail === undefined ? {} : { detail }),
  };
}

function reopen(
  state: CircuitState,
  signal: 'failure' | 'unauthorized',
  detail: string | undefined,
  retryAfterMs: number | undefined,
  nowMs: number,
  rules: CircuitRules,
): CircuitState {
  // A probe per interval notices the vendor's return within one interval; only a long outage
  // (or the vendor's own Retry-After, below) makes it wait longer between probes.
  const longOutage = nowMs - (state.openedAtMs ?? nowMs) >= rules.backoffAfterMs;
  const grown = longOutage
    ? Math.min(rules.maxProbeIntervalMs, Math.max(rules.probeIntervalMs, (state.intervalMs ?? 0) * 2))
    : rules.probeIntervalMs;
  const intervalMs = withRetryAfter(grown, retryAfterMs, rules);
  const fromMs = Math.min(nowMs, state.probe?.claimedAtMs ?? nowMs);
  const reopened = {
    ...open(signal === 'unauthorized' ? 'unauthorized' : 'open', intervalMs, detail, nowMs),
    nextProbeAtMs: fromMs + intervalMs,
  };
  // The outage began when it first opened; the alarm measures from there.
  return { ...reopened, openedAtMs: state.openedAtMs ?? nowMs };
}

function withoutProbe(state: CircuitState): CircuitState {
  const { probe: _probe, ...rest } = state;
  return rest;
}

/** What a delivery may do now. */
export type Admission =
  | { readonly kind: 'pass' }
  /** Half-open and the slot is free: claim it (a conditional write) to make the probe call. */
  | { readonly kind: 'probe_due' }
  /** Open: come back at `untilMs` (the next probe time, or the end of a probe in flight). */
  | { readonly kind: 'wait'; readonly untilMs: number };

export function admission(state: CircuitState, nowMs: number): Admission {
  if (state.status === 'closed') return { kind: 'pass' };
  const nextProbeAtMs = state.nextProbeAtMs ?? nowMs;
  if (nowMs < nextProbeAtMs) return { kind: 'wait', untilMs: nextProbeAtMs };
  if (state.probe && state.probe.untilMs > nowMs) return { kind: 'wait', untilMs: state.probe.untilMs };
  return { kind: 'probe_due' };
}

/** Whether `owner` holds the live probe claim. */
export function holdsProbe(state: CircuitState, owner: string, nowMs: number): boolean {
  return state.status !== 'closed' && state.probe?.owner === owner && state.probe.untilMs > nowMs;
}

/**
 * The share of deliveries (0–1] a closed circuit lets through at `nowMs`: 1, except in the
 * slow start after a probe's success, where it grows linearly from a quarter to 1 over
 * `slowStartMs`. The caller draws against it and sends the others back a little later, so the
 * deferred backlog reaches the buckets over a few seconds rather than in one window.
 */
export function slowStartShare(state: CircuitState, nowMs: number, rules: CircuitRules): number {
  if (state.status !== 'closed' || state.recoveredAtMs === undefined || rules.slowStartMs <= 0) return 1;
  const elapsed = nowMs - state.recoveredAtMs;
  if (elapsed >= rules.slowStartMs || elapsed < 0) return 1;
  return 0.25 + 0.75 * (elapsed / rules.slowStartMs);
}

/** Whether the circuit stops calls (open or unauthorized, probing or not). */
export function isOpen(state: CircuitState): boolean {
  return state.status !== 'closed';
}
