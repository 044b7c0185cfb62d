import { SluiceEnv, WorkerEnv } from '../contract';
import { SluiceConfigError } from '../sluice';
import { readMaxReceiveCount, readProducts } from '../worker/config';

/** The dead-letter relay's configuration: the worker's own variables, the few it needs. */
export interface RelayConfig {
  readonly region?: string;
  readonly tableName: string;
  readonly dynamodbEndpointUrl?: string;
  readonly deadLetterQueueUrl: string;
  readonly sqsEndpointUrl?: string;
  readonly maxReceiveCount: number;
  readonly products: readonly string[];
  /** Where dead_lettered outcomes go (the relay never claim-checks: a dead letter has no body). */
  readonly outcomes?: { readonly topicArn: string; readonly endpointUrl?: string };
}

/** Read once per cold start; every problem in one `SluiceConfigError`. */
export function readRelayConfig(env: NodeJS.ProcessEnv = process.env): RelayConfig {
  const problems: string[] = [];
  const required = (name: string): string => {
    const value = env[name]?.trim();
    if (!value) problems.push(`${name}: is required`);
    return value ?? '';
  };
  const optional = (name: string): string | undefined => env[name]?.trim() || undefined;
  const tableName = required(SluiceEnv.tableName);
  const deadLetterQueueUrl = required(WorkerEnv.deadLetterQueueUrl);
  const receives = readMaxReceiveCount(env[WorkerEnv.maxReceiveCount], problems);
  const products = readProducts(env[WorkerEnv.products], problems);
  let outcomes: RelayConfig['outcomes'];
  if (products.length > 0) {
    const endpointUrl = optional(WorkerEnv.outcomeEndpointUrl);
    outcomes = { topicArn: required(WorkerEnv.outcomeTopicArn), ...(endpointUrl ? { endpointUrl } : {}) };
  }
  if (problems.length > 0) {
    throw new SluiceConfigError('dead-letter relay configuration', problems);
  }
  const region = optional(SluiceEnv.region);
  const dynamodbEndpointUrl = optional(SluiceEnv.endpointUrl);
  const sqsEndpointUrl = optional(WorkerEnv.sqsEndpointUrl);
  return {
    ...(region ? { region } : {}),
    tableName,
    ...(dynamodbEndpointUrl ? { dynamodbEndpointUrl } : {}),
    deadLetterQueueUrl,
    ...(sqsEndpointUrl ? { sqsEndpointUrl } : {}),
    maxReceiveCount: receives,
    products,
    ...(outcomes ? { outcomes } : {}),
  };
}
