import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { boundedAwsClientOptions } from './aws-client-bounds';
import { requestedCosts } from './core/dimensions';
import { MILLI } from './core/model';
import type { SluiceSettings } from './core/settings';
import type {
  AcquireRequest,
  AcquireResult,
  BucketDefinition,
  BucketSnapshot,
  Granted,
  PenalizeOptions,
  PenaltyResult,
  ReconcileOptions,
  ReconcileReport,
  SlotHandle,
  SlotOptions,
} from './core/types';
import { WriterLanes } from './core/writer-lanes';
import { createSluiceLogger } from './logger';
import { acquire } from './ops/acquire';
import type { AcquireOptions } from './ops/acquire-options';
import { penalize, resync, snapshot, upsertBuckets } from './ops/admin';
import type { SluiceContext, SluiceLogger } from './ops/context';
import { handOver } from './ops/hand-over';
import { ItemCache } from './ops/item-cache';
import { BucketLines, type BucketLinesOptions } from './ops/lines';
import { reconcile } from './ops/reconcile';
import { returnSlices } from './ops/slices';
import { abortableSleep, slot } from './ops/slot';
import type { BucketStore } from './store/bucket-store';
import { DynamoBucketStore } from './store/dynamo-store';

export interface SluiceClientOptions {
  readonly settings: SluiceSettings;
  /** @default a client built from the settings with capped retries and request timeouts */
  readonly dynamodb?: DynamoDBClient;
  /** @default a DynamoBucketStore on `settings.tableName` */
  readonly store?: BucketStore;
  /** Milliseconds since the epoch. @default Date.now */
  readonly clock?: () => number;
  /** [0, 1). @default Math.random */
  readonly random?: () => number;
  /** @default setTimeout, cut short by the signal */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default a Powertools Logger, service `sluice`, level from the settings */
  readonly logger?: SluiceLogger;
  /**
   * This client's id in the ops its writes carry (docs/design.md, "Writes that are safe to
   * repeat"); unique among the clients writing one table. @default 12 random hex digits
   */
  readonly writerId?: string;
}

/**
 * The SDK's AWS client. The defaults (3 attempts, no request timeout) would let one call eat the
 * 5 s between the slot deadline and the Lambda timeout: 2 attempts of at most 1.5 s
 * each fail a silent endpoint in about 3 s. DynamoDB answers in milliseconds when it answers.
 */
export function buildDynamoDbClient(
  settings: Pick<SluiceSettings, 'region' | 'endpointUrl'>,
): DynamoDBClient {
  // The runtime's shared bounds (aws-client-bounds.ts): a silent endpoint fails the call
  // with a TimeoutError well inside the slot margin instead of holding it until the Lambda
  // timeout kills the invocation.
  return new DynamoDBClient(
    boundedAwsClientOptions({ region: settings.region, endpoint: settings.endpointUrl }),
  );
}

export class SluiceClient {
  private readonly ctx: SluiceContext;
  private readonly ownedDynamoDb?: DynamoDBClient;

  constructor(options: SluiceClientOptions) {
    const { settings } = options;
    let store = options.store;
    if (!store) {
      const dynamodb = options.dynamodb ?? buildDynamoDbClient(settings);
      if (!options.dynamodb) this.ownedDynamoDb = dynamodb;
      store = new DynamoBucketStore(dynamodb, settings.tableName);
    }
    const clock = options.clock ?? Date.now;
    this.ctx = {
      settings,
      store,
      clock,
      random: options.random ?? Math.random,
      sleep: options.sleep ?? abortableSleep,
      logger: options.logger ?? createSluiceLogger(settings.logLevel),
      cache: new ItemCache(store, clock),
      writers: new WriterLanes(options.writerId ?? randomUUID().replaceAll('-', '').slice(0, 12), clock),
    };
  }

  /** One attempt, all-or-nothing over every dimension named: `Granted` or `RetryIn`. */
  acquire(request: AcquireRequest, options?: AcquireOptions): Promise<AcquireResult> {
    return acquire(this.ctx, request, options);
  }

  acquireMany(costs: Readonly<Record<string, number>>, options?: AcquireOptions): Promise<AcquireResult> {
    return acquire(this.ctx, costs, options);
  }

  /** Retries acquire with the returned waits; `SlotTimeoutError` at the deadline. */
  slot(request: AcquireRequest, options?: SlotOptions & AcquireOptions): Promise<SlotHandle> {
    const dimensions = Object.keys(requestedCosts(request));
    return slot(this.ctx, dimensions, (refusal) => acquire(this.ctx, request, options, refusal), options);
  }

  slotMany(
    costs: Readonly<Record<string, number>>,
    options?: SlotOptions & AcquireOptions,
  ): Promise<SlotHandle> {
    return this.slot(costs, options);
  }

  /**
   * Gives back what this client's slices of hot buckets did not use (bucket definitions with
   * `lease`), each exactly once; resolves to the units returned. Call it before the process ends:
   * a slice not returned is dropped after its expiry, its unused part counted as used.
   */
  async returnSlices(): Promise<number> {
    return (await returnSlices(this.ctx)) / MILLI;
  }

  /**
   * Hands a held grant's `concurrent` leases to the next holder in one conditional write, instead
   * of a release and an acquire: the new grant, or undefined when nothing was handed over (a
   * lease was reclaimed, the definition changed, a Retry-After hold): release the old grant then.
   * Only for grants whose dimensions are all `concurrent` (docs/design.md, "Handing a lease over").
   */
  handOver(grant: Granted, options?: AcquireOptions): Promise<Granted | undefined> {
    return handOver(this.ctx, grant, options);
  }

  /**
   * Lines for the callers of one process that share this client (a pool of records in one
   * Lambda environment): a caller refused by a bucket waits its turn behind the others refused
   * by it instead of waking with them, and a `concurrent` lease one caller is done with goes to
   * the next in line with no release and no acquire (`BucketLines`). Their `acquire` and `done`
   * take the place of `acquire` and `release` for those callers. A wrapper of this client builds
   * its own with `new BucketLines(wrapper)`.
   */
  lines(options?: BucketLinesOptions): BucketLines {
    return new BucketLines(this, options);
  }

  /**
   * After a vendor 429: tokens × factor (0.8 by default), so every worker backs off at once; with
   * `holdSeconds` (the `Retry-After`), no acquire of the bucket is granted until it has passed.
   */
  penalize(dimension: string, factor?: number, options?: PenalizeOptions): Promise<PenaltyResult> {
    return penalize(this.ctx, dimension, factor, options);
  }

  /** The vendor's remaining count (e.g. `x-ratelimit-remaining-requests`): lowers tokens, never raises them. */
  resync(dimension: string, remainingUnits: number): Promise<void> {
    return resync(this.ctx, dimension, remainingUnits);
  }

  reconcile(options?: ReconcileOptions): Promise<ReconcileReport> {
    return reconcile(this.ctx, options);
  }

  upsertBuckets(definitions: readonly BucketDefinition[]): Promise<void> {
    return upsertBuckets(this.ctx, definitions);
  }

  snapshot(dimension: string): Promise<BucketSnapshot> {
    return snapshot(this.ctx, dimension);
  }

  /** Closes the DynamoDB client if this instance built it. */
  close(): void {
    this.ownedDynamoDb?.destroy();
  }
}
