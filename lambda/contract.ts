/**
 * Names shared by the runtime (lambda/), the infrastructure (lib/) and the local stack
 * (local/): environment variables, metric names, message attributes, log events.
 * Nothing here imports aws-cdk-lib. The SDK's own names (its environment variables, the bucket
 * table's key, the slot margin, its log events) live in the SDK and are re-exported from its
 * entrance here, so this contract depends on the SDK and never the other way round.
 */

import { SluiceLogEvent } from './sluice';

export {
  SLOT_MARGIN_SECONDS,
  SluiceEnv,
  SWEEP_INDEX,
  TABLE_PARTITION_KEY,
  TABLE_TTL_ATTRIBUTE,
} from './sluice';

/** Environment variables read by the worker and reconciler handlers. */
export const WorkerEnv = {
  queueUrl: 'SLUICE_QUEUE_URL',
  deadLetterQueueUrl: 'SLUICE_DLQ_URL',
  sqsEndpointUrl: 'SLUICE_SQS_ENDPOINT_URL',
  vendorSecretArn: 'SLUICE_VENDOR_SECRET_ARN',
  /** JSON of `VendorSettings` (lambda/worker-settings.ts): base URL, allow-list, operations, policy. */
  vendorSettings: 'SLUICE_VENDOR_SETTINGS',
  /** The configured Lambda timeout in seconds; the slot deadline is derived from it. */
  lambdaTimeout: 'SLUICE_LAMBDA_TIMEOUT',
  /**
   * The work queue's redrive `maxReceiveCount`: a record that fails at the receive before the
   * last is dead-lettered by the worker itself, with its reason (docs/worker.md).
   */
  maxReceiveCount: 'SLUICE_MAX_RECEIVE_COUNT',
  /** The SNS topic every message's final outcome is published to (docs/worker.md, "Outcomes"). */
  outcomeTopicArn: 'SLUICE_OUTCOME_TOPIC_ARN',
  /** The S3 bucket that holds answer bodies too large for the topic (the claim check). */
  outcomeBucket: 'SLUICE_OUTCOME_BUCKET',
  /** The vendor whose circuit the reconciler reports each run (the stack configuration's `vendor.name`). */
  circuitVendor: 'SLUICE_CIRCUIT_VENDOR',
  /**
   * Comma-separated principal ids of the worker's own role (`AROA…`): only a message SQS says
   * one of them sent (`SenderId`) is the worker's requeued copy, whose `sluice-*` attributes
   * count. Absent (the local stack): every sender is trusted.
   */
  ownSenderIds: 'SLUICE_OWN_SENDER_IDS',
  /**
   * JSON `{ product: [principal id, …] }`: who may send a first delivery naming each product
   * (SQS `SenderId`, its part before `:`). Absent: any sender may name any product.
   */
  productSenders: 'SLUICE_PRODUCT_SENDERS',
  /** Comma-separated product names a message may carry (the stack configuration's `products`). */
  products: 'SLUICE_PRODUCTS',
  /** SNS and S3 endpoint (the local stack's fauxqs serves both); absent in AWS. */
  outcomeEndpointUrl: 'SLUICE_OUTCOME_ENDPOINT_URL',
  metricsNamespace: 'POWERTOOLS_METRICS_NAMESPACE',
  serviceName: 'POWERTOOLS_SERVICE_NAME',
} as const;

/**
 * A message's idempotency id: its `id` within its product (`<product>#<id>`), so two products
 * that both number their orders never share an idempotency record or a vendor Idempotency-Key.
 * A message without a product (a stack that lists none) keeps its bare id. Product names hold no
 * `#`, so the two parts never run together (docs/worker.md, "Idempotency").
 */
export function idempotencyId(product: string | undefined, id: string): string {
  return product === undefined ? id : `${product}#${id}`;
}

/** SQS per-message DelaySeconds upper bound. */
export const MAX_DELAY_SECONDS = 900;

export { MessageAttr } from './producer/attributes';

/** Why a message was dead-lettered; also a metric dimension value (never a message id). */
export const DeadLetterReason = {
  invalidMessage: 'invalid_message',
  vendorUnauthorized: 'vendor_unauthorized',
  vendorRejected: 'vendor_rejected',
  maxAttempts: 'max_attempts',
  maxAge: 'max_age',
  unknownOutcome: 'unknown_outcome',
  retriesExhausted: 'retries_exhausted',
  /** The worker failed on the message (a store, queue or secret error, a bug) up to the receive before the last SQS allows. */
  workerError: 'worker_error',
  /**
   * SQS's own redrive moved the message after maxReceiveCount receives, without the worker: the
   * dead-letter relay (lambda/handlers/dead-letter-relay.ts) names it and publishes its outcome.
   */
  redriveMaxReceiveCount: 'redrive_max_receive_count',
} as const;
export type DeadLetterReason = (typeof DeadLetterReason)[keyof typeof DeadLetterReason];

/** CloudWatch metric namespace and names (Embedded Metric Format through Powertools Metrics). */
export const METRICS_NAMESPACE = 'Sluice';
export const Metric = {
  grants: 'Grants',
  retryIns: 'RetryIns',
  inlineWaits: 'InlineWaits',
  requeues: 'Requeues',
  vendorCalls: 'VendorCalls',
  vendor429AfterGrant: 'Vendor429AfterGrant',
  penalties: 'Penalties',
  /** The refill rate a penalty left, in % of the configured rate, per bucket (vendor#metric). */
  rateScale: 'RateScale',
  /** A 429 whose answer stated a limit below the bucket's configured rate: that limit is the bucket's ceiling now. */
  statedLimitBelowConfigured: 'StatedLimitBelowConfigured',
  deadLettered: 'DeadLettered',
  /** A record the worker failed on (it threw): SQS delivers it again, or the worker dead-letters it. */
  messageFailures: 'MessageFailures',
  acquireLatency: 'AcquireLatency',
  contentionRetries: 'ContentionRetries',
  vendorLatency: 'VendorLatency',
  messageAge: 'MessageEndToEndAge',
  completed: 'Completed',
  duplicatesSkipped: 'DuplicatesSkipped',
  reclaimedLeases: 'ReclaimedLeases',
  reconcilerRuns: 'ReconcilerRuns',
  reconcilerItemErrors: 'ReconcilerItemErrors',
  /** Vendor calls running in the worker when one starts (this one included): the pool's fill. */
  callsInFlight: 'CallsInFlight',
  /** Records the pool never started because no vendor call fitted before the deadline (requeued as copies). */
  unstartedRequeues: 'UnstartedRequeues',
  /** Final outcomes published to the outcome topic, by Product and OutcomeClass. */
  outcomesPublished: 'OutcomesPublished',
  /** A publish to the outcome topic (or its claim check) that failed: the message is delivered again to retry it. */
  outcomePublishFailures: 'OutcomePublishFailures',
  /** Answer bodies too large for the topic, written to the outcome bucket instead. */
  outcomeBodiesClaimChecked: 'OutcomeBodiesClaimChecked',
  /** Grants by Product (the product a message names): each product's admitted rate. */
  productGrants: 'ProductGrants',
  /** Units a grant took from its product's reserved share, by Product and Bucket (share used). */
  productReservedUnits: 'ProductReservedUnits',
  /** Units a grant took from the common part, by Product and Bucket: idle shares borrowed, or the unreserved rest. */
  productCommonUnits: 'ProductCommonUnits',
  /** A completed message's end-to-end age, by Product: how long each product waits. */
  productMessageAge: 'ProductMessageAge',
  /** The vendor circuit opened (or reopened after a failed probe), across every worker. */
  circuitOpened: 'CircuitOpened',
  /** Probe calls made while the circuit was half-open (one per interval across workers). */
  circuitProbes: 'CircuitProbes',
  circuitClosed: 'CircuitClosed',
  /** Messages deferred by the open circuit: copies that keep their attempt. */
  circuitDeferrals: 'CircuitDeferrals',
  /**
   * How long the circuit has been open, in seconds: each time a delivery finds it open, and
   * every reconciler run (0 while closed), so the alarm does not depend on traffic.
   */
  circuitOpenSeconds: 'CircuitOpenSeconds',
  /** The circuit's state at each reconciler run: 1 open or unauthorized, 0 closed. */
  circuitOpen: 'CircuitOpen',
  /** Reads that found the circuit item unreadable (taken as closed, replaced by the next write). */
  circuitUnreadable: 'CircuitItemUnreadable',
} as const;
export type MetricName = (typeof Metric)[keyof typeof Metric];

/** Metric dimension names. */
export const MetricDimension = {
  service: 'service',
  responseClass: 'ResponseClass',
  reason: 'Reason',
  operation: 'Operation',
  /** A bucket as `vendor#metric` (never a key: keys are unbounded). */
  bucket: 'Bucket',
  /** A product name from the stack configuration's bounded list (never free text). */
  product: 'Product',
  /** `completed` or `dead_lettered`. */
  outcomeClass: 'OutcomeClass',
} as const;

/** Log event names: the SDK's (kept from Sluice), then the worker's own (one per message outcome). */
export const LogEvent = {
  ...SluiceLogEvent,
  messageInvalid: 'message.invalid',
  messageCompleted: 'message.completed',
  messageDuplicate: 'message.duplicate',
  messageRequeued: 'message.requeued',
  messageDeadLettered: 'message.dead_lettered',
  messageFailed: 'message.failed',
  /** Giving an idempotency claim back failed; the claim ends at its expiry instead (process-message.ts). */
  claimAbandonFailed: 'message.claim_abandon_failed',
  /**
   * Claims asked for together failed (each was then asked on its own), or giving back one taken
   * ahead for a record that did not start failed (it ends at its expiry) (lambda/idempotency/claims-together.ts).
   */
  claimsTogetherFailed: 'batch.claims_together_failed',
  inlineWait: 'message.inline_wait',
  /** A parked lease passed on inside the pool without a write (the SDK's `BucketLines`). */
  leasePassedOn: 'lease.passed_on',
  vendorAnswered: 'vendor.answered',
  outcomePublished: 'outcome.published',
  outcomePublishFailed: 'outcome.publish_failed',
  /** A message with no known product: its outcome cannot be routed, so none is published. */
  outcomeUnroutable: 'outcome.unroutable',
  /** The vendor client wanted to repeat a request, and the buckets did not grant the repeat. */
  repeatNotGranted: 'vendor.repeat_not_granted',
  /** The vendor circuit (docs/design.md, "The vendor circuit"). */
  circuitOpened: 'circuit.opened',
  circuitProbe: 'circuit.probe',
  circuitClosed: 'circuit.closed',
  circuitReopened: 'circuit.reopened',
  /** The circuit item could not be decoded: taken as closed, and replaced by the next write. */
  circuitUnreadable: 'circuit.unreadable',
  /** The reconciler's report of the circuit each run. */
  circuitState: 'circuit.state',
  /** The vendor states a limit below the bucket's configured rate: it became the bucket's ceiling. */
  statedLimitBelowConfigured: 'bucket.stated_limit_below_configured',
} as const;

/** SNS message attributes of an outcome event: products' subscriptions filter on `product`. */
export const OutcomeAttr = {
  product: 'product',
  outcome: 'outcome',
} as const;

/** Properties of the bucket-seeding custom resource (lib/ sets them, lambda/handlers/seed-buckets.ts reads them). */
export const SeedBucketsProperty = {
  /** The bucket definitions as JSON: CloudFormation turns numbers in properties into strings. */
  bucketsJson: 'BucketsJson',
  /**
   * The sweep index's name, read by nobody: a stack that had no index seeds again on its first
   * deploy with one, and that seeding's table pass puts the older bucket items in the index.
   */
  sweepIndex: 'SweepIndex',
} as const;
