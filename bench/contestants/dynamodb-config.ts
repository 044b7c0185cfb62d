import type { DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';

/**
 * The same client settings for every contestant, so none wins by configuration: an explicit
 * endpoint, static credentials (DynamoDB Local accepts any) and the SDK's default retries.
 */
export function benchClientConfig(endpoint: string): DynamoDBClientConfig {
  return {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    },
  };
}
