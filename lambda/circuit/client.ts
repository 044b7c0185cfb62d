import { SluiceError } from '../sluice';
import { type CircuitEvent, type CircuitRules, type CircuitState, CLOSED, transition } from './state';
import { CIRCUIT_OPS_KEPT, type CircuitStore, type StoredCircuit } from './store';

export interface CircuitClientOptions {
  readonly store: CircuitStore;
  /** The vendor's name: one circuit per vendor, shared by every worker and product. */
  readonly vendor: string;
  readonly rules: CircuitRules;
  /**
   * How old a view of the circuit may be before a delivery reads it again. A stale closed view
   * lets this worker call for at most that long after another opened the circuit.
   * @default 1000
   */
  readonly viewMaxAgeMs?: number;
  /** A new unique id for each write (e.g. randomUUID). */
  readonly newId: () => string;
  readonly clock: () => number;
  /**
   * Called on each read that finds the item unreadable, with what is wrong (the worker logs it
   * and counts it for the alarm). The circuit is then taken as closed and the next event
   * written replaces the item.
   */
  readonly onUnreadable?: (problem: string) => void;
}

export interface Applied {
  readonly before: CircuitState;
  readonly after: CircuitState;
  /** This call wrote the change (or found its own write already applied). */
  readonly changed: boolean;
}

/**
 * Conflicts one event may meet before it gives up. Every conflict means another write
 * succeeded, so n writers racing on the item all finish within n rounds; this bounds a pool's
 * calls failing together across several workers.
 */
const MAX_WRITE_ROUNDS = 32;

/** An event met MAX_WRITE_ROUNDS conflicting writes in a row and was not applied. */
export class CircuitContentionError extends SluiceError {
  override readonly name: string = 'CircuitContentionError';
}

/**
 * One worker's handle on a vendor's circuit: a short-lived view for admission, and events
 * applied through the pure state machine (state.ts) with a write conditioned on the version
 * seen; a conflict hands back the current item and the event is applied to it again. An
 * event that changes nothing writes nothing.
 */
export class CircuitClient {
  private cached: { readonly stored: StoredCircuit; readonly readAtMs: number } | undefined;
  private readonly viewMaxAgeMs: number;

  constructor(private readonly options: CircuitClientOptions) {
    this.viewMaxAgeMs = options.viewMaxAgeMs ?? 1_000;
  }

  get rules(): CircuitRules {
    return this.options.rules;
  }

  /** A unique owner for a probe claim. */
  newOwner(): string {
    return this.options.newId();
  }

  /** The circuit as last seen, read again when older than `viewMaxAgeMs`. */
  async view(): Promise<CircuitState> {
    return (await this.current(false)).state;
  }

  async apply(event: CircuitEvent): Promise<Applied> {
    const { store, vendor, rules, clock } = this.options;
    // A probe claim must not be decided on a stale view: another worker may hold it already.
    let base = await this.current(event.kind === 'claim_probe');
    const before = base.state;
    const mine: string[] = [];
    for (let round = 0; round < MAX_WRITE_ROUNDS; round += 1) {
      const next = transition(base.state, event, clock(), rules);
      // An unreadable item is replaced by the first event, even one that changes nothing.
      if (next === base.state && base.unreadable === undefined)
        return { before, after: base.state, changed: false };
      const op = this.options.newId();
      mine.push(op);
      const stored: StoredCircuit = {
        state: next,
        version: Math.max(base.version, 0) + 1,
        ops: [op, ...base.ops].slice(0, CIRCUIT_OPS_KEPT),
      };
      const outcome = await store.write(vendor, stored, base.version);
      if (outcome.written) {
        this.remember(stored);
        return { before, after: next, changed: true };
      }
      const current = outcome.current ?? { state: CLOSED, version: 0, ops: [] };
      this.remember(current);
      // Our own earlier write, applied although its answer was lost and the SDK sent it again.
      if (current.ops.some((seen) => mine.includes(seen)))
        return { before, after: current.state, changed: true };
      base = current;
    }
    throw new CircuitContentionError(
      `circuit of ${vendor}: ${event.kind} met ${MAX_WRITE_ROUNDS} concurrent writes in a row`,
    );
  }

  private async current(fresh: boolean): Promise<StoredCircuit> {
    const nowMs = this.options.clock();
    if (!fresh && this.cached && nowMs - this.cached.readAtMs < this.viewMaxAgeMs) return this.cached.stored;
    const stored = (await this.options.store.read(this.options.vendor)) ?? {
      state: CLOSED,
      version: 0,
      ops: [],
    };
    this.remember(stored);
    return stored;
  }

  private remember(stored: StoredCircuit): void {
    if (stored.unreadable !== undefined) this.options.onUnreadable?.(stored.unreadable);
    this.cached = { stored, readAtMs: this.options.clock() };
  }
}
