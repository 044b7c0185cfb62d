import { WorkerEnv } from '../contract';
import { SluiceConfig, type SluiceSettings } from '../sluice/config';
import { isSluiceConfigError } from '../sluice/errors';
import { formatIssues, type VendorSettings, VendorSettingsSchema } from '../worker-settings';

/**
 * The worker's configuration, read once per cold start from the environment the CDK (or
 * the local stack) sets through `workerEnvironment()`. Every problem, the SDK's included,
 * is reported in one message: a deploy with three mistakes should fail once, not three times.
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
}

export class WorkerConfigError extends Error {
  override readonly name = 'WorkerConfigError';
  constructor(
    message: string,
    readonly problems: readonly string[],
  ) {
    super(message);
  }
}

export function isWorkerConfigError(error: unknown): error is WorkerConfigError {
  return error instanceof Error && error.name === 'WorkerConfigError';
}

export function readWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name];
    if (value === undefined || value.trim() === '') problems.push(`${name} is required (got nothing)`);
    return value?.trim() ?? '';
  };
  let sluice: SluiceSettings | undefined;
  try {
    sluice = SluiceConfig.fromEnv({}, env);
  } catch (error) {
    if (!isSluiceConfigError(error)) throw error;
    problems.push(...error.problems);
  }
  const queueUrl = required(WorkerEnv.queueUrl);
  const deadLetterQueueUrl = required(WorkerEnv.deadLetterQueueUrl);
  const vendorSecretArn = required(WorkerEnv.vendorSecretArn);
  const lambdaTimeoutSeconds = readTimeout(env[WorkerEnv.lambdaTimeout], problems);
  const maxReceiveCount = readMaxReceiveCount(env[WorkerEnv.maxReceiveCount], problems);
  const vendor = readVendorSettings(env[WorkerEnv.vendorSettings], problems);
  if (problems.length > 0 || sluice === undefined || vendor === undefined) {
    throw new WorkerConfigError(`Invalid worker configuration: ${problems.join('; ')}`, problems);
  }
  const sqsEndpointUrl = env[WorkerEnv.sqsEndpointUrl]?.trim();
  return {
    sluice,
    vendor,
    queueUrl,
    deadLetterQueueUrl,
    ...(sqsEndpointUrl ? { sqsEndpointUrl } : {}),
    vendorSecretArn,
    lambdaTimeoutSeconds,
    maxReceiveCount,
  };
}

/** SQS accepts a redrive maxReceiveCount from 1 to 1000. */
function readMaxReceiveCount(value: string | undefined, problems: string[]): number {
  const count = Number(value);
  if (value === undefined || value.trim() === '') {
    problems.push(`${WorkerEnv.maxReceiveCount} is required (got nothing)`);
  } else if (!Number.isInteger(count) || count < 1 || count > 1000) {
    problems.push(`${WorkerEnv.maxReceiveCount} must be an integer from 1 to 1000 (got "${value}")`);
  }
  return count;
}

/** The slot deadline needs more than the margin: a timeout of 5 s or less leaves no slot at all. */
function readTimeout(value: string | undefined, problems: string[]): number {
  const seconds = Number(value);
  if (value === undefined || value.trim() === '') {
    problems.push(`${WorkerEnv.lambdaTimeout} is required (got nothing)`);
  } else if (!Number.isInteger(seconds) || seconds <= 5 || seconds > 900) {
    problems.push(
      `${WorkerEnv.lambdaTimeout} must be an integer number of seconds from 6 to 900 (got "${value}")`,
    );
  }
  return seconds;
}

function readVendorSettings(value: string | undefined, problems: string[]): VendorSettings | undefined {
  const name = WorkerEnv.vendorSettings;
  if (value === undefined || value.trim() === '') {
    problems.push(`${name} is required (got nothing)`);
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    problems.push(`${name} is not JSON (${(error as Error).message})`);
    return undefined;
  }
  const parsed = VendorSettingsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  problems.push(...formatIssues(parsed.error, name));
  return undefined;
}
