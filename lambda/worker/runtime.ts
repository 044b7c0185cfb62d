import type { SQSRecord } from 'aws-lambda';
import type { OutcomeRouting } from '../outcomes/build';
import type { OutcomePublisher } from '../outcomes/publisher';
import type { WorkMessage } from '../producer/message';
import type { ResolvedRequest } from '../vendor-api/request';
import type { Delivery } from './adapters/attributes';
import type { RecordContext } from './policy/decision';
import type { CircuitPort, WorkerDependencies } from './ports';
import type { WarmEnvironment } from './warm/warm-environment';

/**
 * What every step of a record reads: the dependencies the wiring supplied, defaults filled, all
 * read-only, and the warm environment, which changes only through its methods.
 */
export interface WorkerRuntime
  extends Readonly<
    Required<Omit<WorkerDependencies, 'outcomes' | 'circuit' | 'ownSenderIds' | 'productSenders'>>
  > {
  /** The worker role's principal ids; absent: every sender is trusted (attributes.ts). */
  readonly ownSenderIds?: readonly string[];
  /** Who may send a first delivery naming each product; absent: anyone. */
  readonly productSenders?: Readonly<Record<string, readonly string[]>>;
  /** Publishes each message's final outcome (or nothing, when no outcome channel is wired). */
  readonly outcomes: OutcomePublisher;
  /** `products` as a set. */
  readonly productSet: ReadonlySet<string>;
  /** The vendor circuit; absent, every delivery passes (circuit.ts). */
  readonly circuit?: CircuitPort;
  /** Recent 429s, calls in flight, the pool's size and its lines (warm-environment.ts). */
  readonly warm: WarmEnvironment;
}

/**
 * A message the worker can act on: validated, its request resolved and priced, and its
 * decision context built, once per record (prepare.ts).
 */
export interface PreparedMessage {
  readonly record: SQSRecord;
  readonly message: WorkMessage;
  readonly request: ResolvedRequest;
  readonly costs: Record<string, number>;
  readonly delivery: Delivery;
  readonly deadlineMs: number;
  /** What every decision about this record knows besides the clock reading and the inline sleep. */
  readonly context: RecordContext;
  /**
   * The SDK's product label for this record's acquires: the message's product, which is one of
   * the configured products (any other makes the message invalid), so the label's values are
   * bounded by the configuration. Absent when the message names none.
   */
  readonly acquireOptions: { readonly product?: string };
  /** Where its outcome goes: set when the message names a (configured) product. */
  readonly routing?: OutcomeRouting;
}
