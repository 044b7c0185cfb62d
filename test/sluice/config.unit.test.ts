import { SluiceConfig } from '../../lambda/sluice/config';
import { isSluiceConfigError, type SluiceConfigError } from '../../lambda/sluice/errors';

function configError(run: () => unknown): SluiceConfigError {
  try {
    run();
  } catch (error) {
    if (isSluiceConfigError(error)) return error;
    throw error;
  }
  throw new Error('expected a SluiceConfigError');
}

describe('SluiceConfig.fromEnv', () => {
  it('applies the documented defaults when only the table name is set', () => {
    expect(SluiceConfig.fromEnv({}, { SLUICE_TABLE_NAME: 'buckets' })).toEqual({
      tableName: 'buckets',
      leaseTtlSeconds: 60,
      maxRetries: 3,
      defaultSlotTimeoutSeconds: 30,
      inlineRetryThresholdSeconds: 5,
      logLevel: 'INFO',
    });
  });

  it('reads every SLUICE_ variable, numbers from strings and the log level in any case', () => {
    const env = {
      SLUICE_TABLE_NAME: 'buckets',
      SLUICE_AWS_REGION: 'eu-west-1',
      SLUICE_ENDPOINT_URL: 'http://127.0.0.1:8000',
      SLUICE_LEASE_TTL: '90',
      SLUICE_MAX_RETRIES: '0',
      SLUICE_DEFAULT_SLOT_TIMEOUT: '25',
      SLUICE_INLINE_RETRY_THRESHOLD: '2.5',
      SLUICE_LOG_LEVEL: 'debug',
    };
    expect(SluiceConfig.fromEnv({}, env)).toEqual({
      tableName: 'buckets',
      region: 'eu-west-1',
      endpointUrl: 'http://127.0.0.1:8000',
      leaseTtlSeconds: 90,
      maxRetries: 0,
      defaultSlotTimeoutSeconds: 25,
      inlineRetryThresholdSeconds: 2.5,
      logLevel: 'DEBUG',
    });
  });

  it('lets overrides win over the environment', () => {
    const settings = SluiceConfig.fromEnv(
      { tableName: 'other', maxRetries: 5 },
      { SLUICE_TABLE_NAME: 'buckets', SLUICE_MAX_RETRIES: '1' },
    );
    expect([settings.tableName, settings.maxRetries]).toEqual(['other', 5]);
  });

  it('names every bad variable with the value seen, in one message', () => {
    const error = configError(() =>
      SluiceConfig.fromEnv(
        {},
        {
          SLUICE_LEASE_TTL: 'soon',
          SLUICE_MAX_RETRIES: '-1',
          SLUICE_DEFAULT_SLOT_TIMEOUT: '0',
          SLUICE_ENDPOINT_URL: 'localhost',
          SLUICE_LOG_LEVEL: 'LOUD',
        },
      ),
    );
    expect(error.message).toBe(
      'Invalid Sluice configuration (6 problems):\n' +
        '  SLUICE_TABLE_NAME: is required\n' +
        '  SLUICE_ENDPOINT_URL: must be a URL (got "localhost")\n' +
        '  SLUICE_LEASE_TTL: must be a positive number of seconds (got "soon")\n' +
        '  SLUICE_MAX_RETRIES: must be a whole number >= 0 (got "-1")\n' +
        '  SLUICE_DEFAULT_SLOT_TIMEOUT: must be a positive number of seconds (got "0")\n' +
        '  SLUICE_LOG_LEVEL: must be one of DEBUG, INFO, WARN, ERROR (got "LOUD")',
    );
    expect(error.problems).toHaveLength(6);
    expect(error.name).toBe('SluiceConfigError');
  });

  it('names the override, not the variable, when an override is wrong', () => {
    expect(configError(() => SluiceConfig.fromEnv({ tableName: 'b', leaseTtlSeconds: -5 }, {})).message).toBe(
      'Invalid Sluice configuration (1 problem):\n  leaseTtlSeconds: must be a positive number of seconds (got -5)',
    );
  });
});
