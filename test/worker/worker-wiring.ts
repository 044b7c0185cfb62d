import { randomUUID } from 'node:crypto';
import type { Message } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import { CircuitClient } from '../../lambda/circuit/client';
import { circuitRules } from '../../lambda/circuit/state';
import type { CircuitStore } from '../../lambda/circuit/store';
import type { IdempotencyStore } from '../../lambda/idempotency/store';
import type { OutcomeTopic } from '../../lambda/outcomes/aws';
import type { BodyStore } from '../../lambda/outcomes/claim-check';
import type {
  AcquireOptions,
  BucketDefinition,
  Granted,
  SluiceClient,
  SluiceLogger,
} from '../../lambda/sluice';
import { VendorClient } from '../../lambda/vendor-api/client';
import type { WorkQueues } from '../../lambda/worker/adapters/queues';
import { createWorker, type WorkerHandler } from '../../lambda/worker/create-worker';
import { reportUnreadableCircuit } from '../../lambda/worker/pipeline/circuit-guard';
import type { SluicePort, WorkerDependencies } from '../../lambda/worker/ports';
import {
  parseVendorSettings,
  type VendorSettings,
  type VendorSettingsInput,
} from '../../lambda/worker-settings';
import { createLambdaContext } from '../../local/event-source/lambda-context';
import { toRecord } from '../../local/event-source/poller';
import { type SimulatorOptions, startVendorSimulator, type VendorSimulator } from '../../local/simulator';
import { RecordingTelemetry } from './recording-telemetry';

/**
 * What the two worker harnesses share: the options, the vendor (the simulator on loopback and
 * the real vendor client), the worker built over whichever stores a harness brings (DynamoDB
 * Local and fauxqs in harness.ts, memory in memory-harness.ts), and one invocation as the event
 * source makes it. Only the stores and the queue differ between the two.
 */

export const REGION = process.env.AWS_REGION ?? 'us-east-1';

/** The SDK's own log lines are its tests' concern; here they would only bury Jest's report. */
export const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface HarnessOptions {
  readonly simulator: SimulatorOptions;
  readonly buckets: readonly BucketDefinition[];
  /** Vendor settings without the base URL (the simulator's is used). */
  readonly vendor: Omit<VendorSettingsInput, 'baseUrl'>;
  /** The key the worker sends. @default the simulator's */
  readonly apiKey?: string;
  /** One clock for the SDK and the worker; `sleep` then advances it instead of waiting. */
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly lambdaTimeoutSeconds?: number;
  /** Reads the vendor API key (a failing secret). @default the `apiKey` */
  readonly readApiKey?: () => Promise<string>;
  /** Reads the key again after a 401, as the secret provider does. @default none (no second read) */
  readonly refreshApiKey?: () => Promise<string>;
  /**
   * The work queue's redrive to the harness's DLQ after this many receives, told to the
   * worker as its `maxReceiveCount`; a record the worker reports failed is then made visible
   * again at once (as if its visibility timeout had passed). @default no redrive
   */
  readonly maxReceiveCount?: number;
  /** Wraps the vendor client's fetch (to hold or count calls). @default the global fetch */
  readonly fetch?: typeof fetch;
  /** Wraps the harness's work queues (to fail a send, or hold a copy). */
  readonly queues?: (queues: WorkQueues) => WorkQueues;
  /** Wraps the harness's idempotency store (to inject a failure for one id). */
  readonly idempotency?: (store: IdempotencyStore) => IdempotencyStore;
  /**
   * Products the worker knows: the harness then builds the outcome topic, bucket and one
   * filtered subscriber queue per product, and wires the worker to publish to them.
   * @default none (no outcomes)
   */
  readonly products?: readonly string[];
  /** Wraps the harness's outcome topic (to fail a publish). */
  readonly outcomeTopic?: (topic: OutcomeTopic) => OutcomeTopic;
  /** Wire the vendor circuit in the harness's table, with `vendor.circuit` as its rules. @default off */
  readonly circuit?: boolean;
  /** The real SDK's logger (to read its `acquire.*` events). @default quiet */
  readonly sdkLogger?: SluiceLogger;
  /** The worker role's principal ids. @default none: every sender is trusted */
  readonly ownSenderIds?: readonly string[];
  /** Who may send a first delivery naming each product. @default anyone */
  readonly productSenders?: Readonly<Record<string, readonly string[]>>;
  /** Where the worker calls the vendor instead (a misbehaving loopback vendor). @default the simulator */
  readonly vendorUrl?: string;
}

/** The vendor side: the simulator on loopback, its settings, and the real vendor client calling it. */
export async function startVendor(
  options: HarnessOptions,
  time: {
    readonly clock: () => number;
    readonly random: () => number;
    /** The vendor client's backoff between repeats. @default a real timer */
    readonly sleep?: (ms: number) => Promise<void>;
  },
): Promise<{ simulator: VendorSimulator; settings: VendorSettings; vendor: VendorClient }> {
  const simulator = await startVendorSimulator(options.simulator);
  const settings = parseVendorSettings({ ...options.vendor, baseUrl: options.vendorUrl ?? simulator.url });
  const apiKey = options.apiKey ?? simulator.apiKey;
  const vendor = new VendorClient({
    settings,
    apiKey: options.readApiKey ?? (async () => apiKey),
    ...(options.refreshApiKey ? { refreshApiKey: options.refreshApiKey } : {}),
    clock: time.clock,
    random: time.random,
    ...(time.sleep ? { sleep: time.sleep } : {}),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  return { simulator, settings, vendor };
}

/** What both harnesses write down on the way through: telemetry, the SDK calls, the hand-overs. */
export class WorkerRecords {
  readonly telemetry = new RecordingTelemetry();
  /** Every penalize and resync the worker asked of the (real) SDK, in order. */
  readonly sdkCalls: string[] = [];
  /** The SDK's hand-overs the worker asked for: leases passed on, and attempts that passed nothing. */
  readonly handOvers = { granted: 0, refused: 0 };

  /** The real SDK, with its penalize, resync and hand-over calls written down on the way through. */
  observe(sluice: SluiceClient): SluicePort {
    return {
      acquire: (request: Readonly<Record<string, number>>, options?: AcquireOptions) =>
        sluice.acquire(request, options),
      penalize: (dimension: string, factor: number, options?: { readonly holdSeconds?: number }) => {
        this.sdkCalls.push(`penalize ${dimension} ${factor}`);
        return sluice.penalize(dimension, factor, options);
      },
      resync: (dimension: string, remaining: number) => {
        this.sdkCalls.push(`resync ${dimension} ${remaining}`);
        return sluice.resync(dimension, remaining);
      },
      handOver: async (grant: Granted, options?: AcquireOptions) => {
        const next = await sluice.handOver(grant, options);
        if (next) this.handOvers.granted += 1;
        else this.handOvers.refused += 1;
        return next;
      },
    };
  }
}

/** The stores a harness brings: the real ones on the local servers, or the memory ones. */
export interface WorkerStores {
  readonly sluice: SluiceClient;
  readonly queues: WorkQueues;
  readonly idempotency: IdempotencyStore;
  /** A fresh circuit store view per worker (each worker keeps its own circuit cache). */
  readonly circuitStore: () => CircuitStore;
  readonly outcomes?: { readonly topic: OutcomeTopic; readonly bodies: BodyStore };
}

/**
 * The worker over the given stores, and a factory for a second worker on the same stores with
 * its own caches (and circuit view).
 */
export function buildWorker(
  options: HarnessOptions,
  parts: {
    readonly settings: VendorSettings;
    readonly vendor: VendorClient;
    readonly stores: WorkerStores;
    readonly records: WorkerRecords;
    readonly clock: () => number;
    readonly random: () => number;
  },
): { handler: WorkerHandler; anotherWorker: () => WorkerHandler } {
  const { settings, stores, records, clock, random } = parts;
  const circuit = () =>
    new CircuitClient({
      store: stores.circuitStore(),
      vendor: settings.name,
      rules: circuitRules(settings.circuit),
      newId: randomUUID,
      clock,
      onUnreadable: (problem) => reportUnreadableCircuit(records.telemetry, problem),
    });
  const outcomes = stores.outcomes;
  const dependencies: WorkerDependencies = {
    settings,
    sluice: records.observe(stores.sluice),
    vendor: parts.vendor,
    queues: (options.queues ?? ((queues) => queues))(stores.queues),
    idempotency: (options.idempotency ?? ((store) => store))(stores.idempotency),
    telemetry: records.telemetry,
    lambdaTimeoutSeconds: options.lambdaTimeoutSeconds ?? 30,
    ...(options.maxReceiveCount === undefined ? {} : { maxReceiveCount: options.maxReceiveCount }),
    ...(options.ownSenderIds === undefined ? {} : { ownSenderIds: options.ownSenderIds }),
    ...(options.productSenders === undefined ? {} : { productSenders: options.productSenders }),
    products: options.products ?? [],
    ...(outcomes
      ? {
          outcomes: {
            topic: (options.outcomeTopic ?? ((topic) => topic))(outcomes.topic),
            bodies: outcomes.bodies,
          },
        }
      : {}),
    clock,
    random,
    ...(options.sleep ? { sleep: options.sleep } : {}),
  };
  const withCircuit = () => (options.circuit ? { circuit: circuit() } : {});
  return {
    handler: createWorker({ ...dependencies, ...withCircuit() }),
    anotherWorker: () => createWorker({ ...dependencies, ...withCircuit() }),
  };
}

/**
 * One invocation as the event source makes it: the received messages as records, a Lambda
 * context counting down from the timeout on the harness's clock; returns the ids to leave on
 * the queue beside the answer.
 */
export async function invokeWith(
  handler: WorkerHandler,
  messages: readonly Message[],
  options: { readonly lambdaTimeoutSeconds?: number; readonly clock?: () => number },
): Promise<{ response: SQSBatchResponse; failed: ReadonlySet<string> }> {
  const records = messages.map((message) => toRecord(message, 'arn:aws:sqs:local:000000000000:work', REGION));
  const context = createLambdaContext({
    functionName: 'worker',
    timeoutSeconds: options.lambdaTimeoutSeconds ?? 30,
    ...(options.clock ? { nowMs: options.clock } : {}),
  });
  const response = await handler({ Records: records }, context);
  return { response, failed: new Set(response.batchItemFailures.map((failure) => failure.itemIdentifier)) };
}

/** A clock the worker's inline sleeps advance: no real waiting, exact waits. */
export function steppedClock(startMs = 1_700_000_000_000): SteppedClock {
  let nowMs = startMs;
  return {
    clock: () => nowMs,
    sleep: async (ms) => {
      nowMs += ms;
    },
    advance: (ms) => {
      nowMs += ms;
    },
  };
}

export interface SteppedClock {
  readonly clock: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly advance: (ms: number) => void;
}
