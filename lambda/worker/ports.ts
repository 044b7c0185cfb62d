import type { Applied } from '../circuit/client';
import type { CircuitEvent, CircuitState } from '../circuit/state';
import type { IdempotencyStore } from '../idempotency/store';
import type { OutcomeChannel } from '../outcomes/publisher';
import type { AcquireOptions, AcquireResult, Granted } from '../sluice';
import type { VendorCall, VendorCallResult } from '../vendor-api/client';
import type { VendorSettings } from '../worker-settings';
import type { WorkQueues } from './adapters/queues';
import type { WorkerTelemetry } from './adapters/telemetry';

/**
 * What the worker needs from its collaborators, as narrow interfaces: the SDK's
 * `SluiceClient` and the vendor's `VendorClient` fit them as they are, and tests or the
 * local stack can hand in the same real classes wired to local servers.
 */
export interface SluicePort {
  /** `options.product`: the SDK's product label (logs and metrics split by product). */
  acquire(request: Readonly<Record<string, number>>, options?: AcquireOptions): Promise<AcquireResult>;
  /**
   * Passes a held grant's concurrent lease to the next holder in one write (the SDK's
   * `handOver`): the pool's records hand a lease over instead of releasing it when another
   * record waits for it (the SDK's `BucketLines`). Undefined: nothing was handed over.
   * @default none: every lease is released and acquired again
   */
  handOver?(grant: Granted, options?: AcquireOptions): Promise<Granted | undefined>;
  /**
   * `holdSeconds`: the vendor's Retry-After, held in the bucket for every worker and product;
   * `statedLimitPerSecond`: the limit the vendor's answer states (a timing refusal at or below it).
   */
  penalize(
    dimension: string,
    factor: number,
    options?: { readonly holdSeconds?: number; readonly statedLimitPerSecond?: number },
  ): Promise<{ readonly rateScaleAfter?: number; readonly statedLimit?: 'timing' | 'ceiling' }>;
  /** Sets the bucket to what the vendor says is left (x-ratelimit-remaining-*). */
  resync(dimension: string, remainingUnits: number): Promise<unknown>;
}

export interface VendorPort {
  call(request: VendorCall): Promise<VendorCallResult>;
  /**
   * Readies the HTTP client at cold start, before the first grant, without calling the vendor
   * (`VendorClient.warmUp`). @default none
   */
  warmUp?(): Promise<void>;
  /** A fresh cached answer for a cacheable read: the worker then skips acquire. */
  cachedResponse(request: Pick<VendorCall, 'operation' | 'method' | 'path'>): VendorCallResult | undefined;
}

/** The vendor's circuit shared through the table; `CircuitClient` (lambda/circuit/client.ts) fits it. */
export interface CircuitPort {
  view(): Promise<CircuitState>;
  apply(event: CircuitEvent): Promise<Applied>;
  /** A unique owner for a probe claim. */
  newOwner(): string;
}

export interface WorkerDependencies {
  readonly settings: VendorSettings;
  readonly sluice: SluicePort;
  readonly vendor: VendorPort;
  readonly queues: WorkQueues;
  readonly idempotency: IdempotencyStore;
  readonly telemetry: WorkerTelemetry;
  /** The configured Lambda timeout: the slot deadline never reaches past it minus the margin. */
  readonly lambdaTimeoutSeconds: number;
  /**
   * The work queue's redrive maxReceiveCount: a record that fails at receive
   * `maxReceiveCount − 1` or later is dead-lettered by the worker with its reason.
   * @default no limit (the worker never dead-letters a failing record; SQS redrive moves it without a reason)
   */
  readonly maxReceiveCount?: number;
  /**
   * The product names a message may carry (the stack configuration's `products`). A message
   * with another product, or with none while this list is not empty, is invalid.
   * @default none (a message must not name a product, and no outcome is published)
   */
  readonly products?: readonly string[];
  /** The worker role's principal ids (`WorkerEnv.ownSenderIds`); absent: every sender is trusted. */
  readonly ownSenderIds?: readonly string[];
  /** Who may send a first delivery naming each product (`WorkerEnv.productSenders`); absent: anyone. */
  readonly productSenders?: Readonly<Record<string, readonly string[]>>;
  /**
   * Where final outcomes are published (the outcome topic and bucket). Required when `products`
   * is not empty (the configuration checks it).
   * @default none: outcomes are not published
   */
  readonly outcomes?: OutcomeChannel;
  /** @default settings.policy.inlineRetryThresholdSeconds (the CDK sets SLUICE_INLINE_RETRY_THRESHOLD to the same value) */
  readonly inlineRetryThresholdSeconds?: number;
  /**
   * The vendor circuit (docs/worker.md, "Vendor outages"). `wireWorker` always wires one in
   * the bucket table. @default none: every delivery calls the vendor, as before the circuit
   */
  readonly circuit?: CircuitPort;
  /** @default Date.now */
  readonly clock?: () => number;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default a real timer */
  readonly sleep?: (ms: number) => Promise<void>;
}
