import { COMPLETED_RETENTION_SECONDS } from '../../lambda/idempotency/store';
import { SluiceConfigError } from '../../lambda/sluice';
import { MAX_AGE_SECONDS_LIMIT } from '../../lambda/worker-settings';
import { parseStackConfig } from '../../lib/config';
import { validConfig } from './fixtures';

/** The stack configuration's bounds on what a deploy may send and hold. */

function problemsOf(input: unknown): string {
  try {
    parseStackConfig(input, 'config/x.json');
  } catch (error) {
    if (error instanceof SluiceConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

const vendorWith = (fields: Record<string, unknown>) =>
  validConfig({ vendor: { ...validConfig().vendor, ...fields } } as object);

describe('the stack configuration limits', () => {
  it('refuses a plain-http base URL: the API key goes with every call', () => {
    expect(problemsOf(vendorWith({ baseUrl: 'http://api.waitwhile.com/v2' }))).toBe(
      [
        'Invalid stack configuration (1 problem):',
        '  config/x.json: vendor.baseUrl: must be an https: URL: the API key goes with every call (the local stack replaces it with its own vendor by itself) (got "http://api.waitwhile.com/v2")',
      ].join('\n'),
    );
  });

  it('bounds maxAttempts, maxAgeSeconds and maxResponseBytes', () => {
    const policy = { maxAttempts: 1_001, maxAgeSeconds: 7 * 86_400 + 1 };
    expect(problemsOf(vendorWith({ policy, maxResponseBytes: 64 * 1024 * 1024 + 1 }))).toBe(
      [
        'Invalid stack configuration (3 problems):',
        '  config/x.json: vendor.maxResponseBytes: Too big: expected number to be <=67108864 (got 67108865)',
        '  config/x.json: vendor.policy.maxAttempts: Too big: expected number to be <=1000 (got 1001)',
        '  config/x.json: vendor.policy.maxAgeSeconds: Too big: expected number to be <=604800 (got 604801)',
      ].join('\n'),
    );
    const within = parseStackConfig(vendorWith({ policy: { maxAttempts: 1_000, maxAgeSeconds: 604_800 } }));
    expect([
      within.vendor.policy.maxAttempts,
      within.vendor.policy.maxAgeSeconds,
      within.vendor.maxResponseBytes,
    ]).toEqual([1_000, 604_800, 4 * 1024 * 1024]);
  });

  it('keeps the age limit within the time a completed id is remembered', () => {
    expect(MAX_AGE_SECONDS_LIMIT).toBe(COMPLETED_RETENTION_SECONDS);
  });

  it("checks the direct-call dimensions against the buckets, as an operation's", () => {
    expect(problemsOf(vendorWith({ directDimensions: { 'waitwhile#rps': 99, 'waitwhile#nope': 1 } }))).toBe(
      [
        'Invalid stack configuration (2 problems):',
        '  config/x.json: vendor.directDimensions.waitwhile#rps: costs more than the capacity 5 of waitwhile#rps (it could never be granted) (got 99)',
        '  config/x.json: vendor.directDimensions.waitwhile#nope: names no bucket: define waitwhile#nope in buckets',
      ].join('\n'),
    );
  });
});
