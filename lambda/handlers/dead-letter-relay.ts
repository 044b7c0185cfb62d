import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { METRICS_NAMESPACE, WorkerEnv } from '../contract';
import { snsOutcomeTopic } from '../outcomes/aws';
import { createDeadLetterRelay, type DeadLetterRelayHandler } from '../outcomes/dead-letter-relay';
import { OutcomeRelay } from '../outcomes/relay';
import { readRelayConfig } from '../outcomes/relay-config';
import { createAwsClients } from '../worker/aws-clients';
import { DynamoDbIdempotencyStore } from '../worker/idempotency';
import { sqsWorkQueues } from '../worker/queues';
import { powertoolsTelemetry } from '../worker/telemetry';

/**
 * The dead-letter relay Lambda (SQS event source on the relay queue, the work queue's redrive
 * target): lambda/outcomes/dead-letter-relay.ts. Configuration is read once per environment.
 */
let relay: DeadLetterRelayHandler | undefined;

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  if (!relay) {
    const config = readRelayConfig();
    const clients = createAwsClients({
      region: config.region,
      dynamodbEndpoint: config.dynamodbEndpointUrl,
      sqsEndpoint: config.sqsEndpointUrl,
      outcomeEndpoint: config.outcomes?.endpointUrl,
    });
    const service = process.env[WorkerEnv.serviceName] ?? 'sluice';
    const telemetry = powertoolsTelemetry(
      new Logger({ serviceName: service }),
      new Metrics({ namespace: METRICS_NAMESPACE, serviceName: service }),
    );
    const idempotency = new DynamoDbIdempotencyStore(clients.dynamodb, config.tableName, () => 'relay');
    relay = createDeadLetterRelay({
      // Only deadLetter is used: the relay never requeues.
      queues: sqsWorkQueues(clients.sqs, config.deadLetterQueueUrl, config.deadLetterQueueUrl),
      outcomes: new OutcomeRelay(
        idempotency,
        telemetry,
        config.outcomes ? { topic: snsOutcomeTopic(clients.sns, config.outcomes.topicArn) } : undefined,
      ),
      products: config.products,
      telemetry,
      maxReceiveCount: config.maxReceiveCount,
    });
  }
  return relay(event);
}
