/**
 * The vendor circuit as a pure state machine: what one answer, one probe claim or one probe
 * result does to the shared state. No I/O, no clock, no randomness: the caller hands in the
 * time, so every transition is a row of a table test (docs/design.md, "The vendor circuit").
 *
 * - `closed`: calls flow. Consecutive circuit failures (a transport failure, a timeout, a 5xx)
 *   are counted within `windowMs` from the first; `failureThreshold` of them open the circuit.
 *   Any other answer (2xx, 429, 409, another 4xx) shows the vendor answering and resets the count.
 * - `open`: no calls. From `nextProbeAtMs` on, the circuit is half-open: the first worker to
 *   claim the probe (a conditional write) makes one call; a success closes the circuit, a
 *   failure reopens it with the interval doubled, up to `maxProbeIntervalMs`.
 * - `unauthorized`: as `open`, entered by a key the vendor refused after a fresh read.
 */

export type CircuitStatus = 'closed' | 'open' | 'unauthorized';

export interface ProbeClaim {
  /** Who claimed the probe slot (one worker's record pipeline). */
  readonly owner: string;
  /** The claim lapses then, so a prober that died does not hold the circuit shut for ever. */
  readonly untilMs: number;
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
}

export const CLOSED: CircuitState = { status: 'closed', failures: 0, windowStartedAtMs: 0 };

export interface CircuitRules {
  readonly failureThreshold: number;
  readonly windowMs: number;
  readonly probeIntervalMs: number;
  readonly maxProbeIntervalMs: number;
}

/** The rules from the configuration's seconds (lambda/worker-settings.ts, `circuit`). */
export function circuitRules(settings: {
  readonly failureThreshold: number;
  readonly windowSeconds: number;
  readonly probeIntervalSeconds: number;
  readonly maxProbeIntervalSeconds: number;
}): CircuitRules {
  return {
    failureThreshold: settings.failureThreshold,
    windowMs: Math.round(settings.windowSeconds * 1000),
    probeIntervalMs: Math.round(settings.probeIntervalSeconds * 1000),
    maxProbeIntervalMs: Math.round(settings.maxProbeIntervalSeconds * 1000),
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
  | { readonly kind: 'answer'; readonly signal: CircuitSignal; readonly detail?: string }
  | { readonly kind: 'claim_probe'; readonly owner: string; readonly untilMs: number }
  | {
      readonly kind: 'probe_result';
      readonly owner: string;
      readonly signal: CircuitSignal;
      readonly detail?: string;
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
      return onAnswer(state, event.signal, event.detail, nowMs, rules);
    case 'claim_probe':
      if (admission(state, nowMs).kind !== 'probe_due') return state;
      return { ...state, probe: { owner: event.owner, untilMs: event.untilMs } };
    case 'probe_result':
      if (state.status === 'closed' || state.probe?.owner !== event.owner) return state;
      if (event.signal === 'up') return CLOSED;
      return reopen(state, event.signal, event.detail, nowMs, rules);
    case 'abandon_probe':
      if (state.probe?.owner !== event.owner) return state;
      return withoutProbe(state);
  }
}

function onAnswer(
  state: CircuitState,
  signal: CircuitSignal,
  detail: string | undefined,
  nowMs: number,
  rules: CircuitRules,
): CircuitState {
  // While open only the probe decides: answers of calls that were in flight when it opened do not.
  if (state.status !== 'closed') return state;
  if (signal === 'up') return state.failures === 0 ? state : CLOSED;
  if (signal === 'unauthorized') return open('unauthorized', rules.probeIntervalMs, detail, nowMs);
  const fresh = state.failures === 0 || nowMs - state.windowStartedAtMs > rules.windowMs;
  const failures = fresh ? 1 : state.failures + 1;
  const windowStartedAtMs = fresh ? nowMs : state.windowStartedAtMs;
  if (failures >= rules.failureThreshold) return open('open', rules.probeIntervalMs, detail, nowMs);
  return { status: 'closed', failures, windowStartedAtMs };
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
  nowMs: number,
  rules: CircuitRules,
): CircuitState {
  const intervalMs = Math.min(
    rules.maxProbeIntervalMs,
    Math.max(rules.probeIntervalMs, (state.intervalMs ?? 0) * 2),
  );
  const reopened = open(signal === 'unauthorized' ? 'unauthorized' : 'open', intervalMs, detail, nowMs);
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

/** Whether the circuit stops calls (open or unauthorized, probing or not). */
export function isOpen(state: CircuitState): boolean {
  return state.status !== 'closed';
}
