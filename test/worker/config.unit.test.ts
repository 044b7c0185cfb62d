import { readWorkerConfig } from '../../lambda/worker/config';

const vendor = {
  name: 'waitwhile',
  baseUrl: 'https://api.waitwhile.com/v2',
  operations: {
    getLocation: { method: 'GET', path: '/locations/{locationId}', dimensions: { 'waitwhile#rps': 1 } },
  },
};

const complete = {
  SLUICE_TABLE_NAME: 'sluice-buckets',
  SLUICE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/work',
  SLUICE_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/work-dlq',
  SLUICE_VENDOR_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:waitwhile',
  SLUICE_VENDOR_SETTINGS: JSON.stringify(vendor),
  SLUICE_LAMBDA_TIMEOUT: '60',
  SLUICE_MAX_RECEIVE_COUNT: '10',
};

describe('the worker configuration', () => {
  it('reads a complete environment, the SDK settings included', () => {
    const config = readWorkerConfig(complete);
    expect(config).toMatchObject({
      queueUrl: complete.SLUICE_QUEUE_URL,
      deadLetterQueueUrl: complete.SLUICE_DLQ_URL,
      vendorSecretArn: complete.SLUICE_VENDOR_SECRET_ARN,
      lambdaTimeoutSeconds: 60,
      maxReceiveCount: 10,
      sluice: { tableName: 'sluice-buckets', inlineRetryThresholdSeconds: 5 },
      vendor: { name: 'waitwhile', policy: { maxAttempts: 20 } },
    });
    expect(config.sqsEndpointUrl).toBeUndefined();
  });

  it('reports every problem in one message, the SDK variables included', () => {
    const env = {
      SLUICE_VENDOR_SETTINGS: JSON.stringify({ ...vendor, baseUrl: 'ftp://vendor' }),
      SLUICE_LAMBDA_TIMEOUT: '5',
      SLUICE_MAX_RECEIVE_COUNT: '0',
    };
    expect(() => readWorkerConfig(env)).toThrow(
      [
        'Invalid worker configuration (7 problems):',
        '  SLUICE_TABLE_NAME: is required',
        '  SLUICE_QUEUE_URL: is required',
        '  SLUICE_DLQ_URL: is required',
        '  SLUICE_VENDOR_SECRET_ARN: is required',
        '  SLUICE_LAMBDA_TIMEOUT: must be an integer number of seconds from 6 to 900 (got "5")',
        '  SLUICE_MAX_RECEIVE_COUNT: must be an integer from 1 to 1000 (got "0")',
        '  SLUICE_VENDOR_SETTINGS.baseUrl: Invalid URL (got "ftp://vendor")',
      ].join('\n'),
    );
  });

  it("requires the work queue's maxReceiveCount, so a failing record is dead-lettered with its reason before SQS redrives it", () => {
    const { SLUICE_MAX_RECEIVE_COUNT: _, ...without } = complete;
    expect(() => readWorkerConfig(without)).toThrow(
      'Invalid worker configuration (1 problem):\n  SLUICE_MAX_RECEIVE_COUNT: is required',
    );
  });

  it('names vendor settings that are not JSON', () => {
    expect(() => readWorkerConfig({ ...complete, SLUICE_VENDOR_SETTINGS: '{name:' })).toThrow(
      /^Invalid worker configuration \(1 problem\):\n {2}SLUICE_VENDOR_SETTINGS: is not JSON \(.+\)$/,
    );
  });
});
