/** Endpoints of the servers started by global-setup.ts; fails loudly if run outside Jest's setup. */
export function localEndpoints(): { dynamodb: string; sqs: string } {
  const dynamodb = process.env.SLUICE_TEST_DYNAMODB_ENDPOINT;
  const sqs = process.env.SLUICE_TEST_SQS_ENDPOINT;
  if (!dynamodb || !sqs) {
    throw new Error('Local servers are not running: run the tests with `npm test`, which starts them.');
  }
  return { dynamodb, sqs };
}

/** A table or queue name no other test file uses, so files can run in parallel. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}
