import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SQSClient } from '@aws-sdk/client-sqs';

/**
 * Every AWS SDK client the handlers use, built in this one place. The SDK's defaults (3
 * attempts, no request timeout) could spend the whole 5 s margin between the slot deadline
 * and the Lambda timeout on one stuck call, and a Lambda timeout runs no `finally`: so two
 * attempts, and connection/request timeouts of a few seconds.
 */
export const AWS_CLIENT_MAX_ATTEMPTS = 2;
export const AWS_CONNECTION_TIMEOUT_MS = 1_000;
export const AWS_REQUEST_TIMEOUT_MS = 2_000;

export interface AwsClientOptions {
  readonly region?: string;
  /** DynamoDB endpoint (SLUICE_ENDPOINT_URL, the local stack's DynamoDB Local). */
  readonly dynamodbEndpoint?: string;
  /** SQS endpoint (SLUICE_SQS_ENDPOINT_URL, the local stack's fauxqs). */
  readonly sqsEndpoint?: string;
}

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly secretsManager: SecretsManagerClient;
}

function common(region: string | undefined) {
  return {
    ...(region ? { region } : {}),
    maxAttempts: AWS_CLIENT_MAX_ATTEMPTS,
    // The SDK builds its NodeHttpHandler from these (no direct dependency on @smithy packages).
    requestHandler: { connectionTimeout: AWS_CONNECTION_TIMEOUT_MS, requestTimeout: AWS_REQUEST_TIMEOUT_MS },
  };
}

export function createAwsClients(options: AwsClientOptions): AwsClients {
  return {
    dynamodb: new DynamoDBClient({
      ...common(options.region),
      ...(options.dynamodbEndpoint ? { endpoint: options.dynamodbEndpoint } : {}),
    }),
    sqs: new SQSClient({
      ...common(options.region),
      ...(options.sqsEndpoint ? { endpoint: options.sqsEndpoint } : {}),
    }),
    secretsManager: new SecretsManagerClient(common(options.region)),
  };
}
