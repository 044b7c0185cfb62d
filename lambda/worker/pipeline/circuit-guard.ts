import {
  admission,
  type CircuitSignal,
  type CircuitState,
  circuitRules,
  holdsProbe,
  isOpen,
  slowStartShare,
} from '../../circuit/state';
import { DeadLetterReason, LogEvent, MAX_DELAY_SECONDS, Metric, SLOT_MARGIN_SECONDS } from '../../contract';
import type { VendorCall, VendorCallResult } from '../../vendor-api/client';
import { bestEffort } from '../adapters/telemetry';
import { contextAt, type EndAction, pastMaxAge, requeueDelay } from '../policy/decision';
import type { CircuitPort, VendorPort } from '../ports';
import type { PreparedMessage, WorkerRuntime } from '../runtime';
import type { Attempt } from './run-attempts';

/**
 * The vendor circuit in the record pipeline (docs/worker.md, "Vendor outages"). Before a
 * delivery acquires, it asks the circuit: closed, it runs as always; open, it is deferred as a
 * copy that keeps its attempt, with no acquire and no vendor call; half-open, the first
 * delivery to claim the probe slot (a conditional write) makes the one probe call. Every
 * answer the vendor gives is reported to the circuit on the way back.
 */

/**
 * A delivery that meets a probe in flight comes back this soon (not at the end of the probe's
 * claim, which lasts a whole invocation): a probe usually answers within a second, and the
 * backlog should follow its success at once.
 */
export const PROBE_PENDING_WAIT_MS = 2_000;

/** When to come back: the next probe time, or shortly when a probe is in flight. */
function comeBackAtMs(state: CircuitState, nowMs: number): number {
  const admitted = admission(state, nowMs);
  if (admitted.kind !== 'wait') return nowMs;
  if (state.probe && admitted.untilMs === state.probe.untilMs) {
    return Math.min(admitted.untilMs, nowMs + PROBE_PENDING_WAIT_MS);
  }
  return admitted.untilMs;
}

/** What an answer says about the vendor: undefined when no call reached it (a cache hit, a blocked call) or it was a redirect. */
export function circuitSignal(answer: VendorCallResult): CircuitSignal | undefined {
  if (answer.cached || answer.attempts === 0) return undefined;
  // A redirect (never followed) says nothing about the vendor's health: it neither opens nor closes the circuit.
  if (answer.status !== undefined && answer.status >= 300 && answer.status < 400) return undefined;
  switch (answer.class) {
    case 'unauthorized':
      // The vendor client already read the key again after a 401 (vendor-api/client.ts).
      return 'unauthorized';
    case 'busy':
      // 503 is the vendor failing; a documented back-pressure status (409 "busy") is the vendor answering.
      return answer.status === 503 ? 'failure' : 'up';
    case 'transient':
      // No status: a transport failure or a timeout. 408 and 425 are 4xx: the vendor answered.
      return answer.status === undefined || answer.status >= 500 ? 'failure' : 'up';
    default:
      return 'up';
  }
}

/**
 * The copy an open circuit sends back: visible once the circuit may have changed (the next
 * probe, or the end of the probe in flight), plus the requeue jitter, so the backlog does not
 * come back in one second when it closes. It keeps its attempt; only its age limit applies.
 */
export function circuitDeferral(
  untilMs: number,
  state: CircuitState,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
  /**
   * The copy of the delivery whose answer set the next probe time (the probe's, or the failure
   * that opened the circuit): back exactly then, so a delivery is there to make the probe.
   */
  exact = false,
): EndAction {
  const { policy, random } = prepared.context;
  const nowMs = runtime.clock();
  const why = `vendor circuit ${state.status}${state.detail ? ` (${state.detail})` : ''}`;
  const expired = pastMaxAge(contextAt(prepared.context, nowMs), why);
  if (expired) return expired;
  const waitSeconds = Math.max(0, (untilMs - nowMs) / 1000);
  // Positive jitter only (never before the probe time), spread at least over the slow start:
  // the backlog comes back over those seconds, not in the probe's second.
  const spreadSeconds = exact
    ? 0
    : Math.max(policy.requeueJitterSeconds, Math.ceil(runtime.settings.circuit.slowStartSeconds));
  // Rounded up, not past: visible at the probe time, or within the second after it.
  const baseDelaySeconds = Math.min(Math.max(1, Math.ceil(waitSeconds)), MAX_DELAY_SECONDS);
  const share = Math.min(Math.max(random(), 0), 0.999_999);
  const delaySeconds = Math.min(
    baseDelaySeconds + Math.floor(share * (spreadSeconds + 1)),
    MAX_DELAY_SECONDS,
  );
  return { kind: 'requeue', baseDelaySeconds, delaySeconds, why, keepAttempt: true };
}

/**
 * In the slow start after the vendor came back, a delivery passes with the share the circuit
 * gives (a quarter at first, all after `slowStartSeconds`); the others come back within the
 * rest of it, with no acquire and no call, their attempt kept.
 */
function slowStartDeferral(
  state: CircuitState,
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
): EndAction | undefined {
  const nowMs = runtime.clock();
  const rules = circuitRules(runtime.settings.circuit);
  const share = slowStartShare(state, nowMs, rules);
  if (share >= 1 || prepared.context.random() < share) return undefined;
  const { random } = prepared.context;
  const why = 'vendor circuit slow start after recovery';
  const expired = pastMaxAge(contextAt(prepared.context, nowMs), why);
  if (expired) return expired;
  const restSeconds = Math.max(0, ((state.recoveredAtMs ?? nowMs) + rules.slowStartMs - nowMs) / 1000);
  const delay = requeueDelay(0, Math.ceil(restSeconds), random);
  return { kind: 'requeue', ...delay, why, keepAttempt: true };
}

/** Ends of a delivery that an open circuit turns into a deferral: the message itself is not at fault. */
function deferrable(action: Attempt['action'], state: CircuitState): boolean {
  if (!isOpen(state)) return false;
  if (action.kind === 'requeue') return true;
  if (action.kind !== 'dead_letter') return false;
  return (
    action.reason === DeadLetterReason.maxAttempts ||
    (action.reason === DeadLetterReason.vendorUnauthorized && state.status === 'unauthorized')
  );
}

/**
 * Runs one delivery through the circuit: `run` gets the runtime with the vendor port guarded,
 * so the decision tree itself is unchanged.
 */
export async function throughCircuit(
  prepared: PreparedMessage,
  runtime: WorkerRuntime,
  run: (guarded: WorkerRuntime) => Promise<Attempt>,
): Promise<Attempt> {
  const { circuit } = runtime;
  if (!circuit) return run(runtime);
  let state = await circuit.view();
  let admitted = admission(state, runtime.clock());
  reportOpen(state, runtime);
  let probeOwner: string | undefined;
  if (admitted.kind === 'probe_due') {
    const owner = circuit.newOwner();
    const untilMs = prepared.deadlineMs + SLOT_MARGIN_SECONDS * 1000;
    state = (await circuit.apply({ kind: 'claim_probe', owner, untilMs })).after;
    if (holdsProbe(state, owner, runtime.clock())) {
      probeOwner = owner;
      runtime.telemetry.count(Metric.circuitProbes);
      runtime.telemetry.info(LogEvent.circuitProbe, {
        id: prepared.message.id,
        status: state.status,
        interval_seconds: (state.intervalMs ?? 0) / 1000,
      });
    } else {
      admitted = admission(state, runtime.clock());
    }
  }
  if (admitted.kind === 'wait' || (admitted.kind === 'probe_due' && probeOwner === undefined)) {
    const untilMs = comeBackAtMs(state, runtime.clock());
    return { action: circuitDeferral(untilMs, state, prepared, runtime), cached: false };
  }
  if (probeOwner === undefined) {
    const slowed = slowStartDeferral(state, prepared, runtime);
    if (slowed) return { action: slowed, cached: false };
  }
  const probe: DeliveryTurn = { owner: probeOwner, decided: false, opened: false };
  const source = prepared.message.id;
  const guarded: WorkerRuntime = { ...runtime, vendor: guardedVendor(runtime, circuit, probe, source) };
  try {
    const attempt = await run(guarded);
    const after = await circuit.view();
    if (!deferrable(attempt.action, after)) return attempt;
    const untilMs = comeBackAtMs(after, runtime.clock());
    // The prober and the opener come back exactly at the next probe time; the others spread after it.
    const setTheProbeTime = (probe.owner !== undefined && probe.decided) || probe.opened;
    return {
      action: circuitDeferral(untilMs, after, prepared, runtime, setTheProbeTime),
      cached: attempt.cached,
    };
  } finally {
    if (probe.owner !== undefined && !probe.decided) {
      const owner = probe.owner;
      await bestEffort(runtime.telemetry, 'circuit abandon probe', () =>
        circuit.apply({ kind: 'abandon_probe', owner }),
      );
    }
  }
}

/** One delivery's part in the circuit: the probe it holds (and whether its answer came), or the opening it caused. */
interface DeliveryTurn {
  readonly owner: string | undefined;
  decided: boolean;
  /** This delivery's failure opened the circuit: its copy is there to make the first probe. */
  opened: boolean;
}

/**
 * The vendor port as a delivery under the circuit sees it: the probe makes one call without
 * the client's own retries (one call per interval), and a delivery that meets an open circuit
 * between its calls makes no more (its decision tree sees a transient answer with no attempt,
 * and the delivery ends deferred). Each answer is reported to the circuit; a failure to record
 * it is logged, never turned into a failed message (its redelivery would call the vendor again).
 */
function guardedVendor(
  runtime: WorkerRuntime,
  circuit: CircuitPort,
  probe: DeliveryTurn,
  source: string,
): VendorPort {
  const vendor = runtime.vendor;
  return {
    cachedResponse: (request) => vendor.cachedResponse(request),
    async call(request: VendorCall): Promise<VendorCallResult> {
      if (probe.owner !== undefined && !probe.decided) {
        const answer = await vendor.call({ ...request, maxRetries: 0 });
        await recordProbe(answer, probe, circuit, runtime);
        return answer;
      }
      // After its verdict a probe delivery is an ordinary one (a 429 probe closed the circuit and sleeps to call again).
      if (isOpen(await circuit.view())) return blocked();
      const answer = await vendor.call(request);
      const signal = circuitSignal(answer);
      if (signal !== undefined && (await recordAnswer(signal, answer, source, circuit, runtime))) {
        probe.opened = true;
      }
      return answer;
    },
  };
}

/** Reports one answer to the circuit; true when it opened the circuit. */
async function recordAnswer(
  signal: CircuitSignal,
  answer: VendorCallResult,
  source: string,
  circuit: CircuitPort,
  runtime: WorkerRuntime,
): Promise<boolean> {
  let opened = false;
  await bestEffort(runtime.telemetry, 'circuit record', async () => {
    const applied = await circuit.apply({
      kind: 'answer',
      signal,
      detail: describe(answer),
      source,
      ...retryAfter(answer),
    });
    if (applied.changed && isOpen(applied.after) && !isOpen(applied.before)) {
      opened = true;
      runtime.telemetry.count(Metric.circuitOpened);
      runtime.telemetry.warn(LogEvent.circuitOpened, {
        status: applied.after.status,
        detail: applied.after.detail,
        probe_in_seconds: ((applied.after.nextProbeAtMs ?? 0) - runtime.clock()) / 1000,
      });
    }
  });
  return opened;
}

async function recordProbe(
  answer: VendorCallResult,
  probe: DeliveryTurn,
  circuit: CircuitPort,
  runtime: WorkerRuntime,
): Promise<void> {
  const signal = circuitSignal(answer);
  const owner = probe.owner;
  if (signal === undefined || owner === undefined) return;
  probe.decided = true;
  await bestEffort(runtime.telemetry, 'circuit probe result', async () => {
    const applied = await circuit.apply({
      kind: 'probe_result',
      owner,
      signal,
      detail: describe(answer),
      ...retryAfter(answer),
    });
    if (!applied.changed) return;
    if (!isOpen(applied.after)) {
      runtime.telemetry.count(Metric.circuitClosed);
      runtime.telemetry.info(LogEvent.circuitClosed, {
        open_seconds: (runtime.clock() - (applied.before.openedAtMs ?? runtime.clock())) / 1000,
      });
      return;
    }
    runtime.telemetry.count(Metric.circuitOpened);
    runtime.telemetry.warn(LogEvent.circuitReopened, {
      status: applied.after.status,
      detail: applied.after.detail,
      interval_seconds: (applied.after.intervalMs ?? 0) / 1000,
    });
  });
}

/**
 * A circuit item that cannot be decoded: logged and counted (the `VendorCircuitUnreadable`
 * alarm), while the circuit is taken as closed and the next write replaces the item.
 */
export function reportUnreadableCircuit(
  telemetry: Pick<WorkerRuntime['telemetry'], 'count' | 'error'>,
  problem: string,
): void {
  telemetry.count(Metric.circuitUnreadable);
  telemetry.error(LogEvent.circuitUnreadable, { problem, taken_as: 'closed' });
}

function reportOpen(state: CircuitState, runtime: WorkerRuntime): void {
  if (!isOpen(state)) return;
  const openSeconds = Math.max(0, (runtime.clock() - (state.openedAtMs ?? runtime.clock())) / 1000);
  runtime.telemetry.seconds(Metric.circuitOpenSeconds, openSeconds);
}

/** The answer a delivery gets instead of a call the open circuit stopped: nothing was sent. */
function blocked(): VendorCallResult {
  return {
    class: 'transient',
    rateLimit: {},
    latencyMs: 0,
    attempts: 0,
    cached: false,
    outcomeUnknown: false,
    error: 'vendor circuit open: not called',
  };
}

/** The vendor's own Retry-After on a failure (a 503): the circuit waits at least that long to probe. */
function retryAfter(answer: VendorCallResult): { retryAfterMs?: number } {
  if (circuitSignal(answer) !== 'failure' || answer.retryAfterSeconds === undefined) return {};
  return { retryAfterMs: answer.retryAfterSeconds * 1000 };
}

function describe(answer: VendorCallResult): string {
  return answer.status === undefined ? (answer.error ?? 'no answer') : `HTTP ${answer.status}`;
}
