import type { BucketSnapshot } from '../../lambda/sluice';
import type { StackConfig } from '../../lib/config';
import type { DerivedSettings } from '../../lib/derived-settings';
import type { CliOptions } from '../cli/options';
import type { SqsHandler } from '../event-source/poller';
import type { OutcomeCollector } from '../outcomes/collector';
import type { Tally } from '../report/tally';
import type { LocalResources } from './stack';
import type { Fetch } from './vendor-fetch';

/** Where the worker sends vendor calls: the simulator, or the user's `--vendor-url`. */
export interface LocalVendor {
  readonly url: string;
  /** The key the worker sends (no local Secrets Manager: a fixed provider). */
  readonly apiKey: string;
  /** The simulator's own count of 2xx answers per idempotency key (absent for `--vendor-url`). */
  successesById?(): Readonly<Record<string, number>>;
  stop(): Promise<void>;
}

/** The project's handlers and SDK, bound to the local resources. */
export interface WiredHandlers {
  /** The worker's SQS handler. */
  readonly handler: SqsHandler;
  /** Upserts `config.buckets`, as the CDK seeding custom resource does. */
  seedBuckets(): Promise<void>;
  /** One reconciler run; answers the number of leases it gave back. */
  reconcile(): Promise<number>;
  snapshots(dimensions: readonly string[]): Promise<BucketSnapshot[]>;
  /** Sends the messages through the producer helper. */
  enqueue(messages: readonly Record<string, unknown>[]): Promise<void>;
  /** The dead-letter relay's SQS handler (the work queue's redrive target). */
  readonly relay?: SqsHandler;
  /** What each product's queue received (when the configuration lists products). */
  readonly outcomes?: OutcomeCollector;
}

export interface WireOptions {
  readonly config: StackConfig;
  readonly derived: DerivedSettings;
  readonly stack: LocalResources;
  readonly vendorUrl: string;
  readonly apiKey: string;
  /** The instrumented fetch every vendor call goes through. */
  readonly fetch: Fetch;
  /** The worker's events that are not visible elsewhere (completions) land here. */
  readonly tally: Tally;
  /** `--chaos`: the first publish of a completed outcome fails. */
  readonly chaos?: boolean;
}

/** What runLocalStack needs from the rest of the project; tests inject their own. */
export interface RunDependencies {
  startVendor(options: CliOptions): Promise<LocalVendor>;
  wireHandlers(options: WireOptions): Promise<WiredHandlers>;
}
