import { readWorkerConfig } from '../../lambda/worker/config';

/** The worker sends its API key only over https, except in a local run (the SDK pointed at a local DynamoDB). */

const env = (baseUrl: string, extra: Record<string, string> = {}) => ({
  SLUICE_TABLE_NAME: 'sluice-buckets',
  SLUICE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/work',
  SLUICE_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/work-dlq',
  SLUICE_VENDOR_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:waitwhile',
  SLUICE_VENDOR_SETTINGS: JSON.stringify({ name: 'waitwhile', baseUrl }),
  SLUICE_LAMBDA_TIMEOUT: '60',
  SLUICE_MAX_RECEIVE_COUNT: '10',
  ...extra,
});

describe("the worker's vendor base URL", () => {
  it('refuses plain http outside a local run', () => {
    expect(() => readWorkerConfig(env('http://api.waitwhile.com/v2'))).toThrow(
      [
        'Invalid worker configuration (1 problem):',
        '  SLUICE_VENDOR_SETTINGS.baseUrl: must be an https: URL: the API key goes with every call (plain http only in a local run, where SLUICE_ENDPOINT_URL points at a local DynamoDB) (got "http://api.waitwhile.com/v2")',
      ].join('\n'),
    );
  });

  it('accepts https anywhere, and http in a local run', () => {
    expect([
      readWorkerConfig(env('https://api.waitwhile.com/v2')).vendor.baseUrl,
      readWorkerConfig(env('http://127.0.0.1:4010', { SLUICE_ENDPOINT_URL: 'http://127.0.0.1:8000' })).vendor
        .baseUrl,
    ]).toEqual(['https://api.waitwhile.com/v2', 'http://127.0.0.1:4010']);
  });
});
