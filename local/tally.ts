import type { InvocationOutcome } from './poller';

/**
 * Counters of one local run, fed by the poller (deliveries), the worker's events, the
 * vendor fetch wrapper and the DLQ drain. Plain data: the report and the progress line
 * read it, nothing else writes it.
 */
export class Tally {
  /** Deliveries of each message id to the handler, requeued copies included. */
  readonly deliveries = new Map<string, number>();
  /** Completions the worker announced, per id: more than one is a failure of the run. */
  readonly completions = new Map<string, number>();
  /** Message ids the vendor answered 2xx for, per id (the idempotency key header). */
  readonly vendorSuccesses = new Map<string, number>();
  /** Non-2xx answers by status; `no-answer` for timeouts and network errors. */
  readonly refusalsByStatus = new Map<string, number>();
  readonly invocations = new Map<InvocationOutcome, number>();
  /** Dead-lettered ids with their reason, read from the DLQ. */
  readonly deadLettered = new Map<string, string>();
  vendorCalls = 0;
  requeues = 0;
  inlineWaits = 0;
  penalties = 0;
  duplicatesSkipped = 0;
  /** The last unexpected error the worker logged (`message.failed`), for the progress display. */
  lastWorkerError: string | undefined;
  reconcilerRuns = 0;
  reconcilerFailures = 0;
  reclaimedLeases = 0;
  /** Chaos faults injected, by kind. */
  readonly chaos = new Map<string, number>();

  delivered(id: string): void {
    bump(this.deliveries, id);
  }

  completed(id: string): void {
    bump(this.completions, id);
  }

  vendorAnswered(status: number, idempotencyKey: string | undefined): void {
    this.vendorCalls += 1;
    if (status >= 200 && status < 300) {
      if (idempotencyKey) bump(this.vendorSuccesses, idempotencyKey);
    } else {
      bump(this.refusalsByStatus, String(status));
    }
  }

  vendorDidNotAnswer(): void {
    this.vendorCalls += 1;
    bump(this.refusalsByStatus, 'no-answer');
  }

  invocation(outcome: InvocationOutcome): void {
    bump(this.invocations, outcome);
  }

  chaosInjected(kind: string): void {
    bump(this.chaos, kind);
  }

  /** Refusals of every status, for the progress line. */
  get refusals(): number {
    let sum = 0;
    for (const count of this.refusalsByStatus.values()) sum += count;
    return sum;
  }
}

function bump<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}
