import type { InvocationOutcome } from '../event-source/poller';

/** What the serve mode prints as it happens, one line per message event. */
export type MessageEvent =
  | { readonly kind: 'delivered'; readonly id: string; readonly delivery: number }
  | { readonly kind: 'completed'; readonly id: string }
  | { readonly kind: 'deadLettered'; readonly id: string; readonly reason: string; readonly detail?: string };

/** Vendor calls that got no HTTP answer, by cause, with the base URL they were sent to. */
export interface VendorFailure {
  /** e.g. `connection refused (ECONNREFUSED)`, `no answer before the deadline`. */
  readonly cause: string;
  readonly url: string;
  readonly count: number;
}

/**
 * Counters of one local run, fed by the poller (deliveries), the worker's events, the
 * vendor fetch wrapper and the DLQ drain. Plain data: the report and the progress line
 * read it, nothing else writes it.
 */
export interface ProductTally {
  grants: number;
  fromShare: number;
  fromCommon: number;
  maxAgeSeconds: number;
}

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
  /** The worker's detail for a dead letter (e.g. which operation is unknown), by id. */
  readonly deadLetterDetails = new Map<string, string>();
  /** Calls without an HTTP answer, by cause and URL (the handlers log has each one). */
  readonly vendorFailures = new Map<string, VendorFailure>();
  /** The most recent of `vendorFailures`, for the progress line. */
  lastVendorFailure: VendorFailure | undefined;
  /** Told of each delivery, completion and dead letter (the serve mode prints them). */
  onEvent: ((event: MessageEvent) => void) | undefined;
  vendorCalls = 0;
  /** Grants the worker's acquires received, repeats of a vendor request included. */
  grants = 0;
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
  /** The vendor circuit: times it opened (or reopened), probes, closes, messages deferred. */
  readonly circuit = { opened: 0, probes: 0, closed: 0, deferrals: 0 };
  /** By product (docs/worker.md, "Fair shares"): grants, units from its share and from the common part, longest wait. */
  readonly products = new Map<string, ProductTally>();

  product(name: string): ProductTally {
    let entry = this.products.get(name);
    if (!entry) {
      entry = { grants: 0, fromShare: 0, fromCommon: 0, maxAgeSeconds: 0 };
      this.products.set(name, entry);
    }
    return entry;
  }

  delivered(id: string): void {
    bump(this.deliveries, id);
    this.onEvent?.({ kind: 'delivered', id, delivery: this.deliveries.get(id) ?? 1 });
  }

  completed(id: string): void {
    bump(this.completions, id);
    this.onEvent?.({ kind: 'completed', id });
  }

  deadLetter(id: string, reason: string, detail: string | undefined): void {
    this.deadLettered.set(id, reason);
    if (detail) this.deadLetterDetails.set(id, detail);
    this.onEvent?.({ kind: 'deadLettered', id, reason, ...(detail ? { detail } : {}) });
  }

  vendorAnswered(status: number, idempotencyKey: string | undefined): void {
    this.vendorCalls += 1;
    if (status >= 200 && status < 300) {
      if (idempotencyKey) bump(this.vendorSuccesses, idempotencyKey);
    } else {
      bump(this.refusalsByStatus, String(status));
    }
  }

  vendorDidNotAnswer(cause = 'no answer', url = ''): void {
    this.vendorCalls += 1;
    bump(this.refusalsByStatus, 'no-answer');
    const key = `${cause} ${url}`;
    const failure = { cause, url, count: (this.vendorFailures.get(key)?.count ?? 0) + 1 };
    this.vendorFailures.set(key, failure);
    this.lastVendorFailure = failure;
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
