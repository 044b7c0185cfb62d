/**
 * Where a Sluice stack publishes its shared resources for other CDK apps: SSM parameters
 * under `/sluice/<stage>/…` (docs/deploy.md). A product in another app reads them at deploy
 * time through `BucketTable.fromStage` and `RateLimitedWorker.fromStage`; nothing has to be
 * copied between repositories, and no CloudFormation export ties the two stacks together.
 */
export const SluiceParameterNames = {
  tableName: (stage: string) => `/sluice/${stage}/table/name`,
  tableArn: (stage: string) => `/sluice/${stage}/table/arn`,
  /** One worker per vendor, so the vendor name (from configuration) identifies it. */
  queueUrl: (stage: string, vendor: string) => `/sluice/${stage}/workers/${vendor}/queue-url`,
  queueArn: (stage: string, vendor: string) => `/sluice/${stage}/workers/${vendor}/queue-arn`,
  deadLetterQueueUrl: (stage: string, vendor: string) => `/sluice/${stage}/workers/${vendor}/dlq-url`,
  /** Only for a worker whose configuration lists products (it publishes outcomes). */
  outcomeTopicArn: (stage: string, vendor: string) => `/sluice/${stage}/workers/${vendor}/outcome-topic-arn`,
  /** The bucket of answer bodies too large for the topic (an outcome's `bodyRef`); with the topic. */
  outcomeBucketName: (stage: string, vendor: string) =>
    `/sluice/${stage}/workers/${vendor}/outcome-bucket-name`,
} as const;
