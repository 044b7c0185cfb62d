import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CircuitClient } from '../circuit/client';
import { DynamoDbCircuitStore } from '../circuit/dynamo-store';
import { circuitRules } from '../circuit/state';
import { METRICS_NAMESPACE } from '../contract';
import { DynamoDbIdempotencyStore } from '../idempotency/dynamo-store';
import { type OutcomeTopic, s3BodyStore, snsOutcomeTopic } from '../outcomes/aws';
import { SluiceClient } from '../sluice';
import { VendorClient } from '../vendor-api/client';
import { SecretApiKeyProvider } from '../vendor-api/secret';
import { type AwsClients, createAwsClients } from './adapters/aws-clients';
import { sqsWorkQueues } from './adapters/queues';
import { powertoolsTelemetry, type WorkerTelemetry } from './adapters/telemetry';
import type { WorkerConfig } from './config';
import { createWorker, type WorkerHandler } from './create-worker';
import { reportUnreadableCircuit } from './pipeline/circuit-guard';
import type { SluicePort } from './ports';

// The worker's handler imports this file alone: its configuration and its wiring.
export { readWorkerConfig } from './config';
export type { WorkerHandler } from './create-worker';

/** What a caller may replace when wiring the worker from its configuration (tests, the local stack). */
export interface WireOverrides {
  readonly clients?: AwsClients;
  /** The vendor API key; by default read from Secrets Manager (`SLUICE_VENDOR_SECRET_ARN`) and cached. */
  readonly apiKey?: () => Promise<string>;
  readonly fetch?: typeof fetch;
  readonly telemetry?: WorkerTelemetry;
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Wraps the SDK client as the worker sees it (the local stack counts its DynamoDB calls by purpose). */
  readonly sluice?: (client: SluicePort) => SluicePort;
  /** Wraps the SNS outcome topic (the local stack counts publishes and, under --chaos, fails one). */
  readonly outcomeTopic?: (topic: OutcomeTopic) => OutcomeTopic;
}

/** The worker's handler from its configuration: the real SDK, vendor client, queues and idempotency. */
export function wireWorker(config: WorkerConfig, overrides: WireOverrides = {}): WorkerHandler {
  const clients =
    overrides.clients ??
    createAwsClients({
      region: config.sluice.region,
      dynamodbEndpoint: config.sluice.endpointUrl,
      sqsEndpoint: config.sqsEndpointUrl,
      outcomeEndpoint: config.outcomes?.endpointUrl,
    });
  const clock = overrides.clock ?? Date.now;
  const random = overrides.random ?? Math.random;
  // One logger for the worker's events and the SDK's (acquire.*, release.ok, penalize.applied): one service name.
  const logger = new Logger({ serviceName: config.vendor.name, logLevel: config.sluice.logLevel });
  const sluice = new SluiceClient({
    settings: config.sluice,
    dynamodb: clients.dynamodb,
    clock,
    random,
    logger,
  });
  let apiKey = overrides.apiKey;
  let refreshApiKey: (() => Promise<string>) | undefined;
  if (!apiKey) {
    const provider = new SecretApiKeyProvider({
      secretsManager: clients.secretsManager,
      secretId: config.vendorSecretArn,
      clock,
    });
    apiKey = () => provider.get();
    refreshApiKey = () => provider.refresh();
  }
  const vendor = new VendorClient({
    settings: config.vendor,
    apiKey,
    ...(refreshApiKey ? { refreshApiKey } : {}),
    ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    clock,
    random,
  });
  const telemetry =
    overrides.telemetry ??
    powertoolsTelemetry(
      logger,
      new Metrics({ namespace: METRICS_NAMESPACE, serviceName: config.vendor.name }),
    );
  return createWorker({
    settings: config.vendor,
    sluice: overrides.sluice ? overrides.sluice(sluice) : sluice,
    vendor,
    queues: sqsWorkQueues(clients.sqs, config.queueUrl, config.deadLetterQueueUrl),
    idempotency: new DynamoDbIdempotencyStore(clients.dynamodb, config.sluice.tableName, randomUUID),
    circuit: new CircuitClient({
      store: new DynamoDbCircuitStore(clients.dynamodb, config.sluice.tableName),
      vendor: config.vendor.name,
      rules: circuitRules(config.vendor.circuit),
      newId: randomUUID,
      clock,
      onUnreadable: (problem) => reportUnreadableCircuit(telemetry, problem),
    }),
    telemetry,
    lambdaTimeoutSeconds: config.lambdaTimeoutSeconds,
    maxReceiveCount: config.maxReceiveCount,
    products: config.products,
    ...(config.ownSenderIds ? { ownSenderIds: config.ownSenderIds } : {}),
    ...(config.productSenders ? { productSenders: config.productSenders } : {}),
    ...(config.outcomes
      ? {
          outcomes: {
            topic: (overrides.outcomeTopic ?? ((topic: OutcomeTopic) => topic))(
              snsOutcomeTopic(clients.sns, config.outcomes.topicArn),
            ),
            bodies: s3BodyStore(clients.s3, config.outcomes.bucket),
          },
        }
      : {}),
    inlineRetryThresholdSeconds: config.sluice.inlineRetryThresholdSeconds,
    clock,
    random,
    ...(overrides.sleep ? { sleep: overrides.sleep } : {}),
  });
}
