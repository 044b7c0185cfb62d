import {
  METRICS_NAMESPACE,
  SluiceEnv,
  SWEEP_INDEX,
  TABLE_PARTITION_KEY,
  TABLE_TTL_ATTRIBUTE,
  WorkerEnv,
} from '../lambda/contract';
import { SluiceConfigError } from '../lambda/sluice';
import type { StackConfig } from './config';
import { slotTimeoutFor, workerVendorSettings } from './worker-values';

/**
 * Everything derived from the stack configuration, computed here and nowhere else: the CDK
 * constructs and the local stack both call these functions, so a deployed worker and a
 * local one see the same timeouts, queue attributes and environment.
 */

/** SQS runs extra pollers that reserved concurrency 1 throttles; AWS asks for 6× the timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;
/** SQS limits: visibility timeout 12 h, retention 14 days. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 3_600;
export const MAX_RETENTION_SECONDS = 14 * 86_400;
/**
 * A lease outlives the slot by this margin: the holder may run until the Lambda timeout
 * (slot + 5 s) and Lambda clocks differ by milliseconds, so 15 s leaves room for both.
 */
export const LEASE_MARGIN_SECONDS = 15;
/** EventBridge Scheduler and Lambda async invocation accept 60 s as the shortest maximum event age. */
export const RECONCILER_MAX_EVENT_AGE_SECONDS = 60;

export interface DerivedSettings {
  readonly lambdaTimeoutSeconds: number;
  /** Lambda timeout − SLOT_MARGIN_SECONDS: the longest a worker holds capacity per message. */
  readonly slotTimeoutSeconds: number;
  /** VISIBILITY_TIMEOUT_FACTOR × Lambda timeout. */
  readonly visibilityTimeoutSeconds: number;
  /** Slot timeout + LEASE_MARGIN_SECONDS: a running holder's lease never expires. */
  readonly leaseTtlSeconds: number;
  readonly queueRetentionSeconds: number;
  /** Always the SQS maximum, longer than the queue's: a moved message keeps its first enqueue time. */
  readonly dlqRetentionSeconds: number;
  readonly maxReceiveCount: number;
  /** A run finishes well before the next tick, so two runs never overlap. */
  readonly reconcilerTimeoutSeconds: number;
  readonly reconcilerMaxEventAgeSeconds: number;
}

/** What an error of the derived settings is about: `Invalid derived settings (1 problem):`. */
const DERIVED_SUBJECT = 'derived settings';

export function deriveSettings(config: StackConfig): DerivedSettings {
  const slotTimeoutSeconds = slotTimeoutFor(config.lambdaTimeoutSeconds);
  const visibilityTimeoutSeconds = VISIBILITY_TIMEOUT_FACTOR * config.lambdaTimeoutSeconds;
  const queueRetentionSeconds = config.queueRetentionDays * 86_400;
  // The schema keeps these in range; a change to its bounds must not slip past SQS limits.
  if (visibilityTimeoutSeconds > MAX_VISIBILITY_TIMEOUT_SECONDS) {
    throw new SluiceConfigError(DERIVED_SUBJECT, [
      `lambdaTimeoutSeconds ${config.lambdaTimeoutSeconds} gives a visibility timeout of ${visibilityTimeoutSeconds} s, over the SQS maximum of ${MAX_VISIBILITY_TIMEOUT_SECONDS} s`,
    ]);
  }
  if (queueRetentionSeconds >= MAX_RETENTION_SECONDS) {
    throw new SluiceConfigError(DERIVED_SUBJECT, [
      `queueRetentionDays ${config.queueRetentionDays} leaves the DLQ no longer retention than the queue (SQS maximum 14 days)`,
    ]);
  }
  return {
    lambdaTimeoutSeconds: config.lambdaTimeoutSeconds,
    slotTimeoutSeconds,
    visibilityTimeoutSeconds,
    leaseTtlSeconds: slotTimeoutSeconds + LEASE_MARGIN_SECONDS,
    queueRetentionSeconds,
    dlqRetentionSeconds: MAX_RETENTION_SECONDS,
    maxReceiveCount: config.maxReceiveCount,
    reconcilerTimeoutSeconds: Math.min(300, config.reconcilerEveryMinutes * 60 - 10),
    reconcilerMaxEventAgeSeconds: RECONCILER_MAX_EVENT_AGE_SECONDS,
  };
}

export interface QueueSettings {
  readonly visibilityTimeoutSeconds: number;
  readonly messageRetentionSeconds: number;
  readonly dlqRetentionSeconds: number;
  readonly maxReceiveCount: number;
}

export function queueSettings(derived: DerivedSettings): QueueSettings {
  return {
    visibilityTimeoutSeconds: derived.visibilityTimeoutSeconds,
    messageRetentionSeconds: derived.queueRetentionSeconds,
    dlqRetentionSeconds: derived.dlqRetentionSeconds,
    maxReceiveCount: derived.maxReceiveCount,
  };
}

/** SQS CreateQueue `Attributes` of the work queue, as the stack sets them. */
export function queueAttributes(
  derived: DerivedSettings,
  deadLetterQueueArn: string,
): Record<string, string> {
  return {
    VisibilityTimeout: String(derived.visibilityTimeoutSeconds),
    MessageRetentionPeriod: String(derived.queueRetentionSeconds),
    RedrivePolicy: JSON.stringify({
      deadLetterTargetArn: deadLetterQueueArn,
      maxReceiveCount: derived.maxReceiveCount,
    }),
  };
}

/** SQS CreateQueue `Attributes` of the dead-letter queue, as the stack sets them. */
export function deadLetterQueueAttributes(derived: DerivedSettings): Record<string, string> {
  return { MessageRetentionPeriod: String(derived.dlqRetentionSeconds) };
}

export interface TableDefinition {
  readonly partitionKey: string;
  readonly partitionKeyType: 'S';
  readonly ttlAttribute: string;
  readonly billingMode: 'PAY_PER_REQUEST';
  /** The sparse keys-only index the reconciler sweeps (bucket items only). */
  readonly sweepIndex: { readonly name: string; readonly partitionKey: string };
}

/**
 * The bucket table's key schema, TTL attribute and sweep index, from the SDK's names
 * (createBucketTable creates the same for the local stack and the tests).
 */
export const tableDefinition: TableDefinition = {
  partitionKey: TABLE_PARTITION_KEY,
  partitionKeyType: 'S',
  ttlAttribute: TABLE_TTL_ATTRIBUTE,
  billingMode: 'PAY_PER_REQUEST',
  sweepIndex: { name: SWEEP_INDEX.name, partitionKey: SWEEP_INDEX.partitionKey },
};

export interface WorkerResourceNames {
  readonly tableName: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  /** ARN (a partial ARN from `Secret.fromSecretNameV2` is accepted by GetSecretValue) or name. */
  readonly secretArn: string;
  /** Local stack only: deployed functions get the region and endpoints from Lambda. */
  readonly region?: string;
  readonly dynamodbEndpointUrl?: string;
  readonly sqsEndpointUrl?: string;
  /** The outcome topic and bucket (lib/constructs/outcomes.ts); required when `config.products` is not empty. */
  readonly outcomeTopicArn?: string;
  readonly outcomeBucket?: string;
  /** Local stack only: fauxqs serves SNS and S3. */
  readonly outcomeEndpointUrl?: string;
}

/** The SDK part of an environment, shared by the worker, the reconciler and bucket seeding. */
function sluiceEnvironment(
  config: StackConfig,
  derived: DerivedSettings,
  names: Pick<WorkerResourceNames, 'tableName' | 'region' | 'dynamodbEndpointUrl'>,
): Record<string, string> {
  return {
    [SluiceEnv.tableName]: names.tableName,
    ...(names.region ? { [SluiceEnv.region]: names.region } : {}),
    ...(names.dynamodbEndpointUrl ? { [SluiceEnv.endpointUrl]: names.dynamodbEndpointUrl } : {}),
    [SluiceEnv.leaseTtl]: String(derived.leaseTtlSeconds),
    [SluiceEnv.maxRetries]: String(config.sdkMaxRetries),
    [SluiceEnv.defaultSlotTimeout]: String(derived.slotTimeoutSeconds),
    [SluiceEnv.inlineRetryThreshold]: String(config.vendor.policy.inlineRetryThresholdSeconds),
    [SluiceEnv.logLevel]: config.logLevel,
    [WorkerEnv.metricsNamespace]: METRICS_NAMESPACE,
    [WorkerEnv.serviceName]: config.vendor.name,
  };
}

/** The worker's environment variables; names from lambda/contract.ts. */
export function workerEnvironment(
  config: StackConfig,
  derived: DerivedSettings,
  names: WorkerResourceNames,
): Record<string, string> {
  return {
    ...sluiceEnvironment(config, derived, names),
    [WorkerEnv.queueUrl]: names.queueUrl,
    [WorkerEnv.deadLetterQueueUrl]: names.dlqUrl,
    ...(names.sqsEndpointUrl ? { [WorkerEnv.sqsEndpointUrl]: names.sqsEndpointUrl } : {}),
    [WorkerEnv.vendorSecretArn]: names.secretArn,
    [WorkerEnv.vendorSettings]: JSON.stringify(workerVendorSettings(config)),
    [WorkerEnv.lambdaTimeout]: String(derived.lambdaTimeoutSeconds),
    [WorkerEnv.maxReceiveCount]: String(derived.maxReceiveCount),
    ...outcomeEnvironment(config, names),
  };
}

/** The products and where their outcomes go (the worker's and the dead-letter relay's). */
export function outcomeEnvironment(
  config: Pick<StackConfig, 'products' | 'productSenders'>,
  names: Pick<WorkerResourceNames, 'outcomeTopicArn' | 'outcomeBucket' | 'outcomeEndpointUrl'>,
): Record<string, string> {
  if (config.products.length === 0) return {};
  return {
    [WorkerEnv.products]: config.products.join(','),
    ...(config.productSenders ? { [WorkerEnv.productSenders]: JSON.stringify(config.productSenders) } : {}),
    ...(names.outcomeTopicArn ? { [WorkerEnv.outcomeTopicArn]: names.outcomeTopicArn } : {}),
    ...(names.outcomeBucket ? { [WorkerEnv.outcomeBucket]: names.outcomeBucket } : {}),
    ...(names.outcomeEndpointUrl ? { [WorkerEnv.outcomeEndpointUrl]: names.outcomeEndpointUrl } : {}),
  };
}

/** The dead-letter relay's environment: the table, the DLQ, the receive limit and the outcome topic. */
export function deadLetterRelayEnvironment(
  config: StackConfig,
  derived: DerivedSettings,
  names: Pick<
    WorkerResourceNames,
    'tableName' | 'dlqUrl' | 'outcomeTopicArn' | 'region' | 'dynamodbEndpointUrl' | 'sqsEndpointUrl'
  > &
    Pick<WorkerResourceNames, 'outcomeEndpointUrl'>,
): Record<string, string> {
  return {
    [SluiceEnv.tableName]: names.tableName,
    ...(names.region ? { [SluiceEnv.region]: names.region } : {}),
    ...(names.dynamodbEndpointUrl ? { [SluiceEnv.endpointUrl]: names.dynamodbEndpointUrl } : {}),
    [WorkerEnv.deadLetterQueueUrl]: names.dlqUrl,
    ...(names.sqsEndpointUrl ? { [WorkerEnv.sqsEndpointUrl]: names.sqsEndpointUrl } : {}),
    [WorkerEnv.maxReceiveCount]: String(derived.maxReceiveCount),
    [WorkerEnv.metricsNamespace]: METRICS_NAMESPACE,
    [WorkerEnv.serviceName]: config.vendor.name,
    ...outcomeEnvironment(config, names),
  };
}

/** The environment of the reconciler and of bucket seeding: the SDK settings only. */
export function reconcilerEnvironment(
  config: StackConfig,
  derived: DerivedSettings,
  names: Pick<WorkerResourceNames, 'tableName' | 'region' | 'dynamodbEndpointUrl'>,
): Record<string, string> {
  return sluiceEnvironment(config, derived, names);
}
