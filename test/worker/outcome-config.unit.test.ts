import { readRelayConfig } from '../../lambda/relay/config';
import { readWorkerConfig } from '../../lambda/worker/config';

/** Products and where their outcomes go: read once, every problem in one message. */

const base = {
  SLUICE_TABLE_NAME: 'sluice-buckets',
  SLUICE_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/1/work',
  SLUICE_DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/1/work-dlq',
  SLUICE_VENDOR_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:1:secret:waitwhile',
  SLUICE_VENDOR_SETTINGS: JSON.stringify({ name: 'waitwhile', baseUrl: 'https://api.waitwhile.com/v2' }),
  SLUICE_LAMBDA_TIMEOUT: '60',
  SLUICE_MAX_RECEIVE_COUNT: '10',
};

describe('the outcome configuration', () => {
  it('reads the products and the topic and bucket they publish to', () => {
    const config = readWorkerConfig({
      ...base,
      SLUICE_PRODUCTS: 'checkout, support',
      SLUICE_OUTCOME_TOPIC_ARN: 'arn:aws:sns:eu-west-1:1:outcomes',
      SLUICE_OUTCOME_BUCKET: 'outcome-bodies',
    });
    expect([config.products, config.outcomes]).toEqual([
      ['checkout', 'support'],
      { topicArn: 'arn:aws:sns:eu-west-1:1:outcomes', bucket: 'outcome-bodies' },
    ]);
  });

  it('publishes nothing without products', () => {
    const config = readWorkerConfig(base);
    expect([config.products, config.outcomes]).toEqual([[], undefined]);
  });

  it('reports a bad product name, a repeated one and a missing topic and bucket in one message', () => {
    expect(() => readWorkerConfig({ ...base, SLUICE_PRODUCTS: 'checkout,Support,checkout' })).toThrow(
      [
        'Invalid worker configuration (4 problems):',
        '  SLUICE_PRODUCTS: "Support" must be 1-32 lowercase letters, digits or dashes, starting with a letter',
        '  SLUICE_PRODUCTS: names a product twice',
        '  SLUICE_OUTCOME_TOPIC_ARN: is required',
        '  SLUICE_OUTCOME_BUCKET: is required',
      ].join('\n'),
    );
  });

  it("reads the dead-letter relay's configuration, every problem in one message", () => {
    expect(
      readRelayConfig({
        SLUICE_TABLE_NAME: 'sluice-buckets',
        SLUICE_DLQ_URL: base.SLUICE_DLQ_URL,
        SLUICE_MAX_RECEIVE_COUNT: '10',
        SLUICE_PRODUCTS: 'checkout',
        SLUICE_OUTCOME_TOPIC_ARN: 'arn:aws:sns:eu-west-1:1:outcomes',
      }),
    ).toEqual({
      tableName: 'sluice-buckets',
      deadLetterQueueUrl: base.SLUICE_DLQ_URL,
      maxReceiveCount: 10,
      products: ['checkout'],
      outcomes: { topicArn: 'arn:aws:sns:eu-west-1:1:outcomes' },
    });
    expect(() => readRelayConfig({ SLUICE_PRODUCTS: 'checkout' })).toThrow(
      [
        'Invalid dead-letter relay configuration (4 problems):',
        '  SLUICE_TABLE_NAME: is required',
        '  SLUICE_DLQ_URL: is required',
        '  SLUICE_MAX_RECEIVE_COUNT: is required',
        '  SLUICE_OUTCOME_TOPIC_ARN: is required',
      ].join('\n'),
    );
  });
});
