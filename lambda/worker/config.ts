import { SluiceEnv, WorkerEnv } from '../contract';
import { PRODUCT_NAME_PATTERN } from '../producer/outcome';
import { SluiceConfig, SluiceConfigError, type SluiceSettings, zodProblems } from '../sluice';
import { settingsPlace, type VendorSettings, VendorSettingsSchema } from '../worker-settings';

/**
 * The worker's configuration, read once per cold start from the environment the CDK (or
 * the local stack) sets through `workerEnvironment()`. Every problem, the SDK's included,
 * is reported in one `SluiceConfigError`: a deploy with three mistakes should fail once, not three times.
 */
export interface WorkerConfig {
  readonly sluice: SluiceSettings;
  readonly vendor: VendorSettings;
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly sqsEndpointUrl?: string;
  readonly vendorSecretArn: string;
  readonly lambdaTimeoutSeconds: number;
  /** The work queue's redrive maxReceiveCount (the worker dead-letters a failing record before SQS does). */
  readonly maxReceiveCount: number;
  /** Products a message may name; empty: no product, no outcomes. */
  readonly products: readonly string[];
  /** The worker role's principal ids (attributes.ts `sentByWorker`); absent: every sender trusted. */
  readonly ownSenderIds?: readonly string[];
  /** Who may send a first delivery naming each product; absent: anyone may name any product. */
  readonly productSenders?: Readonly<Record<string, readonly string[]>>;
  /** Where outcomes go; present whenever `products` is not empty. */
  readonly outcomes?: OutcomeSettings;
}

export interface OutcomeSettings {
  readonly topicArn: string;
  readonly bucket: string;
  /** The local stack's SNS/S3 endpoint (fauxqs). */
  readonly endpointUrl?: string;
}

export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value.trim() === '') problems.push(`${name}: is required`);
    return value?.trim() ?? '';
  };
  let sluice: SluiceSettings | undefined;
  try {
    sluice = SluiceConfig.fromEnv({}, env);
  } catch (error) {
    if (!(error instanceof SluiceConfigError)) throw error;
    problems.push(...error.problems);
  }
  const queueUrl = required(WorkerEnv.queueUrl);
  const deadLetterQueueUrl = required(WorkerEnv.deadLetterQueueUrl);
  const vendorSecretArn = required(WorkerEnv.vendorSecretArn);
  const lambdaTimeoutSeconds = readTimeout(env[WorkerEnv.lambdaTimeout], problems);
  const maxReceiveCount = readMaxReceiveCount(env[WorkerEnv.maxReceiveCount], problems);
  const vendor = readVendorSettings(env[WorkerEnv.vendorSettings], problems);
  const localRun = sluice?.endpointUrl !== undefined;
  if (vendor && !localRun && new URL(vendor.baseUrl).protocol !== 'https:') {
    problems.push(
      `${WorkerEnv.vendorSettings}.baseUrl: must be an https: URL: the API key goes with every call (plain http only in a local run, where ${SluiceEnv.endpointUrl} points at a local DynamoDB) (got "${vendor.baseUrl}")`,
    );
  }
  const products = readProducts(env[WorkerEnv.products], problems);
  let outcomes: OutcomeSettings | undefined;
  if (products.length > 0) {
    const topicArn = required(WorkerEnv.outcomeTopicArn);
    const bucket = required(WorkerEnv.outcomeBucket);
    const endpointUrl = env[WorkerEnv.outcomeEndpointUrl]?.trim();
    outcomes = { topicArn, bucket, ...(endpointUrl ? { endpointUrl } : {}) };
  }
  if (problems.length > 0 || sluice === undefined || vendor === undefined) {
    throw new SluiceConfigError('worker configuration', problems);
  }
  const sqsEndpointUrl = env[WorkerEnv.sqsEndpointUrl]?.trim();
  const ownSenderIds = env[WorkerEnv.ownSenderIds]
    ?.split(',')
    .map((id) => id.trim())
    .filter((id) => id !== '');
  const productSenders = readProductSenders(env[WorkerEnv.productSenders], problems);
  if (problems.length > 0) throw new SluiceConfigError('worker configuration', problems);
  return {
    ...(ownSenderIds && ownSenderIds.length > 0 ? { ownSenderIds } : {}),
    ...(productSenders ? { productSenders } : {}),
    sluice,
    vendor,
    queueUrl,
    deadLetterQueueUrl,
    ...(sqsEndpointUrl ? { sqsEndpointUrl } : {}),
    vendorSecretArn,
    lambdaTimeoutSeconds,
    maxReceiveCount,
    products,
    ...(outcomes ? { outcomes } : {}),
  };
}

/** A comma-separated list of product names; absent or empty: none. */
export function readProducts(value: string | undefined, problems: string[]): string[] {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  for (const name of names) {
    if (!PRODUCT_NAME_PATTERN.test(name)) {
      problems.push(
        `${WorkerEnv.products}: "${name}" must be 1-32 lowercase letters, digits or dashes, starting with a letter`,
      );
    }
  }
  if (new Set(names).size !== names.length) problems.push(`${WorkerEnv.products}: names a product twice`);
  return names;
}

/** `{ product: [principal id, …] }` as JSON, or absent. */
export function readProductSenders(
  value: string | undefined,
  problems: string[],
): Record<string, string[]> | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    parsed = undefined;
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((ids) => Array.isArray(ids) && ids.every((id) => typeof id === 'string'));
  if (!valid) {
    problems.push(`${WorkerEnv.productSenders}: must be JSON of product → list of principal ids`);
    return undefined;
  }
  return parsed as Record<string, string[]>;
}

/** SQS accepts a redrive maxReceiveCount from 1 to 1000. */
export function readMaxReceiveCount(value: string | undefined, problems: string[]): number {
  const count = Number(value);
  if (value === undefined || value.trim() === '') {
    problems.push(`${WorkerEnv.maxReceiveCount}: is required`);
  } else if (!Number.isInteger(count) || count < 1 || count > 1000) {
    problems.push(`${WorkerEnv.maxReceiveCount}: must be an integer from 1 to 1000 (got "${value}")`);
  }
  return count;
}

/** The slot deadline needs more than the margin: a timeout of 5 s or less leaves no slot at all. */
function readTimeout(value: string | undefined, problems: string[]): number {
  const seconds = Number(value);
  if (value === undefined || value.trim() === '') {
    problems.push(`${WorkerEnv.lambdaTimeout}: is required`);
  } else if (!Number.isInteger(seconds) || seconds <= 5 || seconds > 900) {
    problems.push(
      `${WorkerEnv.lambdaTimeout}: must be an integer number of seconds from 6 to 900 (got "${value}")`,
    );
  }
  return seconds;
}

function readVendorSettings(value: string | undefined, problems: string[]): VendorSettings | undefined {
  const name = WorkerEnv.vendorSettings;
  if (value === undefined || value.trim() === '') {
    problems.push(`${name}: is required`);
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    problems.push(`${name}: is not JSON (${(error as Error).message})`);
    return undefined;
  }
  const parsed = VendorSettingsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  problems.push(...zodProblems(parsed.error, json, settingsPlace(name)));
  return undefined;
}
