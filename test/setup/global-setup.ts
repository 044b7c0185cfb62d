import { startDynamoDbLocal } from '../../local/servers/dynamodb-local';
import { startFauxqs } from '../../local/servers/fauxqs';
import type { LocalServer } from '../../local/servers/process';

declare global {
  var __SLUICE_TEST_SERVERS__: LocalServer[] | undefined;
}

/**
 * Starts the real local servers once for the whole run; test files read their endpoints
 * from the environment (workers inherit it). Stopped by global-teardown.ts.
 */
export default async function globalSetup(): Promise<void> {
  const [dynamo, sqs] = await Promise.all([startDynamoDbLocal(), startFauxqs()]);
  globalThis.__SLUICE_TEST_SERVERS__ = [dynamo, sqs];
  process.env.SLUICE_TEST_DYNAMODB_ENDPOINT = dynamo.endpoint;
  process.env.SLUICE_TEST_SQS_ENDPOINT = sqs.endpoint;
  // Local servers accept any credentials; the SDK only needs some to sign with.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  process.env.AWS_REGION ??= 'us-east-1';
}
