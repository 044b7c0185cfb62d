import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { boundedAwsClientOptions } from '../../sluice';

/**
 * Every AWS SDK client the handlers use, built in this one place with the runtime's bounds
 * (`lambda/sluice/aws-client-bounds.ts`): 2 attempts, a 1 s connection timeout, a 1.5 s request
 * timeout that throws, so a silent endpoint fails a call in about 3 s, inside the 5 s
 * between the slot deadline and the Lambda timeout.
 */
export interface AwsClientOptions {
  readonly region?: string;
  /** DynamoDB endpoint (SLUICE_ENDPOINT_URL, the local stack's DynamoDB Local). */
  readonly dynamodbEndpoint?: string;
  /** SQS endpoint (SLUICE_SQS_ENDPOINT_URL, the local stack's fauxqs). */
  readonly sqsEndpoint?: string;
  /** Secrets Manager endpoint; tests only (no local stack server speaks it). */
  readonly secretsManagerEndpoint?: string;
  /**
   * SNS and S3 endpoint for outcomes (SLUICE_OUTCOME_ENDPOINT_URL: fauxqs serves both on its
   * one port). With an endpoint, S3 uses path-style URLs (no wildcard DNS needed locally).
   */
  readonly outcomeEndpoint?: string;
}

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly sqs: SQSClient;
  readonly secretsManager: SecretsManagerClient;
  /** Publishes outcome events to the outcome topic. */
  readonly sns: SNSClient;
  /** Claim-checks large answer bodies to the outcome bucket. */
  readonly s3: S3Client;
}

export function createAwsClients(options: AwsClientOptions): AwsClients {
  const { region } = options;
  return {
    dynamodb: new DynamoDBClient(boundedAwsClientOptions({ region, endpoint: options.dynamodbEndpoint })),
    sqs: new SQSClient(boundedAwsClientOptions({ region, endpoint: options.sqsEndpoint })),
    secretsManager: new SecretsManagerClient(
      boundedAwsClientOptions({ region, endpoint: options.secretsManagerEndpoint }),
    ),
    sns: new SNSClient(boundedAwsClientOptions({ region, endpoint: options.outcomeEndpoint })),
    s3: new S3Client({
      ...boundedAwsClientOptions({ region, endpoint: options.outcomeEndpoint }),
      ...(options.outcomeEndpoint ? { forcePathStyle: true } : {}),
    }),
  };
}

/** Closes the clients' sockets (tests and the local stack; a Lambda environment keeps them). */
export function destroyAwsClients(clients: AwsClients): void {
  clients.dynamodb.destroy();
  clients.sqs.destroy();
  clients.secretsManager.destroy();
  clients.sns.destroy();
  clients.s3.destroy();
}
