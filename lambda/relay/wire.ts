import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { METRICS_NAMESPACE, WorkerEnv } from '../contract';
import { DynamoDbIdempotencyStore } from '../idempotency/dynamo-store';
import { snsOutcomeTopic } from '../outcomes/aws';
import { OutcomePublisher } from '../outcomes/publisher';
import { createAwsClients } from '../worker/adapters/aws-clients';
import { sqsWorkQueues } from '../worker/adapters/queues';
import { powertoolsTelemetry } from '../worker/adapters/telemetry';
import type { RelayConfig } from './config';
import { createDeadLetterRelay, type DeadLetterRelayHandler } from './dead-letter-relay';

// The relay's handler imports this file alone: its configuration and its wiring.
export { readRelayConfig } from './config';
export type { DeadLetterRelayHandler } from './dead-letter-relay';

/**
 * The dead-letter relay from its configuration (dead-letter-relay.ts): the real DLQ, the
 * idempotency records it shares with the worker, and the outcome topic when products are set.
 */
export function wireDeadLetterRelay(
  config: RelayConfig,
  service = process.env[WorkerEnv.serviceName] ?? 'sluice',
): DeadLetterRelayHandler {
  const clients = createAwsClients({
    region: config.region,
    dynamodbEndpoint: config.dynamodbEndpointUrl,
    sqsEndpoint: config.sqsEndpointUrl,
    outcomeEndpoint: config.outcomes?.endpointUrl,
  });
  const telemetry = powertoolsTelemetry(
    new Logger({ serviceName: service }),
    new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service }),
  );
  const idempotency = new DynamoDbIdempotencyStore(clients.dynamodb, config.tableName, () => 'relay');
  return createDeadLetterRelay({
    // Only deadLetter is used: the relay never requeues.
    queues: sqsWorkQueues(clients.sqs, config.deadLetterQueueUrl, config.deadLetterQueueUrl),
    outcomes: new OutcomePublisher(
      idempotency,
      telemetry,
      config.outcomes ? { topic: snsOutcomeTopic(clients.sns, config.outcomes.topicArn) } : undefined,
    ),
    products: config.products,
    telemetry,
    maxReceiveCount: config.maxReceiveCount,
  });
}
