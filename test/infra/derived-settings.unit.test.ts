import { SluiceConfig, SluiceConfigError } from '../../lambda/sluice';
import { readWorkerConfig } from '../../lambda/worker/config';
import { parseStackConfig } from '../../lib/config';
import {
  deadLetterQueueAttributes,
  deriveSettings,
  queueAttributes,
  queueSettings,
  reconcilerEnvironment,
  tableDefinition,
  workerEnvironment,
} from '../../lib/derived-settings';
import { tokenDimensions } from '../../lib/worker-values';
import { validConfig } from './fixtures';

describe('derived settings', () => {
  const config = parseStackConfig(validConfig({ lambdaTimeoutSeconds: 120, maxReceiveCount: 8 }));
  const derived = deriveSettings(config);

  it('derives every timeout from the Lambda timeout, once', () => {
    expect(derived).toEqual({
      lambdaTimeoutSeconds: 120,
      slotTimeoutSeconds: 115,
      visibilityTimeoutSeconds: 720,
      leaseTtlSeconds: 130,
      queueRetentionSeconds: 4 * 86_400,
      dlqRetentionSeconds: 14 * 86_400,
      maxReceiveCount: 8,
      reconcilerTimeoutSeconds: 50,
      reconcilerMaxEventAgeSeconds: 60,
    });
  });

  it('refuses settings past the SQS limits with the one configuration error, each named', () => {
    // The schema keeps both in range; deriveSettings guards against a change to its bounds.
    const tooLong = { ...config, lambdaTimeoutSeconds: 10_000 };
    const tooRetained = { ...config, queueRetentionDays: 14 };
    expect(() => deriveSettings(tooLong)).toThrow(SluiceConfigError);
    expect(() => deriveSettings(tooLong)).toThrow(
      'Invalid derived settings (1 problem):\n  lambdaTimeoutSeconds 10000 gives a visibility timeout of 60000 s, over the SQS maximum of 43200 s',
    );
    expect(() => deriveSettings(tooRetained)).toThrow(
      /queueRetentionDays 14 leaves the DLQ no longer retention/,
    );
  });

  it('gives the local stack the same queue attributes and table definition as the stack', () => {
    expect(queueSettings(derived)).toEqual({
      visibilityTimeoutSeconds: 720,
      messageRetentionSeconds: 345_600,
      dlqRetentionSeconds: 1_209_600,
      maxReceiveCount: 8,
    });
    expect(queueAttributes(derived, 'arn:dlq')).toEqual({
      VisibilityTimeout: '720',
      MessageRetentionPeriod: '345600',
      RedrivePolicy: '{"deadLetterTargetArn":"arn:dlq","maxReceiveCount":8}',
    });
    expect(deadLetterQueueAttributes(derived)).toEqual({ MessageRetentionPeriod: '1209600' });
    expect(tableDefinition).toEqual({
      partitionKey: 'vendor_dimension',
      partitionKeyType: 'S',
      ttlAttribute: 'ttl',
      billingMode: 'PAY_PER_REQUEST',
      sweepIndex: { name: 'sweep', partitionKey: 'sweep' },
    });
  });

  it('hands the worker its environment under the contract names, endpoints only when given', () => {
    const names = { tableName: 't', queueUrl: 'q', dlqUrl: 'd', secretArn: 's' };
    const environment = workerEnvironment(config, derived, names);
    expect({ ...environment, SLUICE_VENDOR_SETTINGS: undefined }).toEqual({
      SLUICE_TABLE_NAME: 't',
      SLUICE_LEASE_TTL: '130',
      SLUICE_MAX_RETRIES: '3',
      SLUICE_DEFAULT_SLOT_TIMEOUT: '115',
      SLUICE_INLINE_RETRY_THRESHOLD: '5',
      SLUICE_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
      POWERTOOLS_SERVICE_NAME: 'waitwhile',
      SLUICE_QUEUE_URL: 'q',
      SLUICE_DLQ_URL: 'd',
      SLUICE_VENDOR_SECRET_ARN: 's',
      SLUICE_VENDOR_SETTINGS: undefined,
      SLUICE_LAMBDA_TIMEOUT: '120',
      SLUICE_MAX_RECEIVE_COUNT: '8',
    });
    // The vendor settings, plus the tokens buckets the worker must price in tokens (none here).
    expect(JSON.parse(environment.SLUICE_VENDOR_SETTINGS ?? '')).toEqual({
      ...config.vendor,
      tokenDimensions: [],
    });
    const local = workerEnvironment(config, derived, {
      ...names,
      region: 'us-east-1',
      dynamodbEndpointUrl: 'http://127.0.0.1:8000',
      sqsEndpointUrl: 'http://127.0.0.1:9324',
    });
    expect([local.SLUICE_AWS_REGION, local.SLUICE_ENDPOINT_URL, local.SLUICE_SQS_ENDPOINT_URL]).toEqual([
      'us-east-1',
      'http://127.0.0.1:8000',
      'http://127.0.0.1:9324',
    ]);
  });
});

describe('the environments the stack hands out', () => {
  const config = parseStackConfig(
    validConfig({ lambdaTimeoutSeconds: 90, sdkMaxRetries: 2, logLevel: 'WARN', maxReceiveCount: 6 }),
  );
  const derived = deriveSettings(config);
  const names = {
    tableName: 'buckets',
    queueUrl: 'https://q',
    dlqUrl: 'https://dlq',
    secretArn: 'arn:secret',
  };

  /** The SDK settings every function reads back from its environment. */
  const sluice = {
    tableName: 'buckets',
    leaseTtlSeconds: 100,
    maxRetries: 2,
    defaultSlotTimeoutSeconds: 85,
    inlineRetryThresholdSeconds: 5,
    logLevel: 'WARN',
  };

  it('are read back by the worker as the configuration says', () => {
    const worker = readWorkerConfig(workerEnvironment(config, derived, names));
    expect(worker).toEqual({
      sluice,
      vendor: { ...config.vendor, tokenDimensions: [] },
      queueUrl: 'https://q',
      deadLetterQueueUrl: 'https://dlq',
      vendorSecretArn: 'arn:secret',
      lambdaTimeoutSeconds: 90,
      maxReceiveCount: 6,
      products: [],
    });
  });

  it('are read back by the SDK in the reconciler and the seeding function', () => {
    expect(
      SluiceConfig.fromEnv({}, reconcilerEnvironment(config, derived, { tableName: 'buckets' })),
    ).toEqual(sluice);
  });
});

describe('the tokens dimensions the worker is told about', () => {
  it('are the tokens buckets as vendor#metric, a keyed template without its #*', () => {
    const config = parseStackConfig(
      validConfig({
        buckets: [
          { dimension: 'anthropic#rpm', limitType: 'requests', capacity: 50, windowSeconds: 60 },
          { dimension: 'anthropic#itpm', limitType: 'tokens', capacity: 40_000, windowSeconds: 60 },
          { dimension: 'anthropic#org-tokens#*', limitType: 'tokens', capacity: 9_000, windowSeconds: 60 },
          { dimension: 'anthropic#concurrent', limitType: 'concurrent', capacity: 4 },
        ],
        vendor: {
          name: 'anthropic',
          baseUrl: 'https://api.anthropic.com',
          operations: {
            messages: {
              method: 'POST',
              path: '/v1/messages',
              dimensions: { 'anthropic#rpm': 1, 'anthropic#itpm': 1000 },
            },
          },
        },
      }),
    );
    expect(tokenDimensions(config)).toEqual(['anthropic#itpm', 'anthropic#org-tokens']);
    const names = { tableName: 't', queueUrl: 'q', dlqUrl: 'd', secretArn: 's' };
    const worker = readWorkerConfig(workerEnvironment(config, deriveSettings(config), names));
    expect(worker.vendor.tokenDimensions).toEqual(['anthropic#itpm', 'anthropic#org-tokens']);
  });

  it('are not part of the stack configuration: the stack derives them', () => {
    const vendor = { ...validConfig().vendor, tokenDimensions: ['waitwhile#rps'] };
    expect(() => parseStackConfig(validConfig({ vendor } as object))).toThrow(
      'vendor.tokenDimensions: is not a known field',
    );
  });
});
