import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { SluiceConfigError } from '../../lambda/sluice';
import { parseStackConfig, type StackConfigInput } from '../../lib/config';
import { callsInFlightNeeded, operationLimits, poolWarnings } from '../../lib/sizing';
import { validConfig } from './fixtures';
import { synthStack } from './synth';

/** The two worked examples of docs/deploy.md ("Sizing the pool"), as configurations. */
function openAi(overrides: Partial<StackConfigInput> = {}, vendor: Record<string, unknown> = {}) {
  return validConfig({
    lambdaTimeoutSeconds: 120,
    buckets: [
      { dimension: 'openai#rpm', limitType: 'requests', capacity: 500, windowSeconds: 60 },
      { dimension: 'openai#tpm', limitType: 'tokens', capacity: 40_000, windowSeconds: 60 },
    ],
    vendor: {
      name: 'openai',
      baseUrl: 'https://api.openai.com',
      operations: {
        chat: {
          method: 'POST',
          path: '/v1/chat/completions',
          dimensions: { 'openai#rpm': 1, 'openai#tpm': 260 },
        },
      },
      expectedLatencyMs: 5_000,
      ...vendor,
    },
    ...overrides,
  });
}

function problemsOf(input: StackConfigInput): readonly string[] {
  try {
    parseStackConfig(input);
  } catch (error) {
    if (error instanceof SluiceConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('sizing the pool (Little: calls in flight ≈ allowed rate × latency)', () => {
  it('derives the allowed rate from the tightest bucket: OpenAI is bound by tokens, 40,000 / 60 / 260 ≈ 2.56 calls/s', () => {
    const config = parseStackConfig(openAi());
    const [chat] = operationLimits(config);
    expect(chat?.callsPerSecond).toBeCloseTo(40_000 / 60 / 260, 6);
    expect(chat?.concurrentCalls).toBe(Number.POSITIVE_INFINITY);
    // At 5 s a call, 12.8 calls in flight; at 1.5 s, 3.8.
    expect(callsInFlightNeeded(chat!, 5_000)).toBeCloseTo(12.82, 2);
    expect(callsInFlightNeeded(chat!, 1_500)).toBeCloseTo(3.85, 2);
  });

  it('booking API: 5 requests/s at 300 ms needs 1.5 calls in flight, far inside the default bound of 16', () => {
    const config = parseStackConfig(
      validConfig({ vendor: { ...validConfig().vendor, expectedLatencyMs: 300 } }),
    );
    const booking = parseStackConfig(
      validConfig({
        buckets: [{ dimension: 'waitwhile#rps', limitType: 'requests', capacity: 5, windowSeconds: 1 }],
        vendor: {
          name: 'waitwhile',
          baseUrl: 'https://api.waitwhile.com/v2',
          operations: {
            getLocation: { method: 'GET', path: '/locations', dimensions: { 'waitwhile#rps': 1 } },
          },
          expectedLatencyMs: 300,
        },
      }),
    );
    expect(callsInFlightNeeded(operationLimits(booking)[0]!, 300)).toBeCloseTo(1.5, 6);
    // The default batch is what the slot starts at its 1/s bucket: (55 s − a 20 s call) × 1/s.
    expect([config.batchSize, config.maxBatchingWindowSeconds, config.vendor.maxInFlight]).toEqual([
      35, 1, 16,
    ]);
    expect(poolWarnings(booking)).toEqual([]);
    expect(poolWarnings(config)).toEqual([]);
  });

  it('rejects a batch that can never fill the pool, and a batch over 10 without a batching window, with every other problem', () => {
    expect(problemsOf(openAi({ batchSize: 8 }, { maxInFlight: 16 }))).toEqual([
      'stack configuration: vendor.maxInFlight: must not exceed batchSize 8: a batch of 8 records can never keep 16 calls in flight (got 16)',
    ]);
    expect(
      problemsOf(openAi({ batchSize: 40, maxBatchingWindowSeconds: 0, stage: 'X' }, { maxInFlight: 16 })),
    ).toEqual([
      'stack configuration: stage: must be 1-20 lowercase letters, digits or dashes (got "X")',
      'stack configuration: maxBatchingWindowSeconds: must be at least 1 for a batchSize over 10 (40): without a window SQS hands the worker at most 10 records (got 0)',
    ]);
    expect(problemsOf(openAi({ batchSize: 40, maxBatchingWindowSeconds: 2 }, { maxInFlight: 16 }))).toEqual(
      [],
    );
  });

  it('warns when the pool is too small for the expected latency, or the slot too short to start the batch', () => {
    const small = parseStackConfig(openAi({ batchSize: 10 }, { maxInFlight: 4 }));
    expect(poolWarnings(small)).toEqual([
      'chat: at 5000 ms a call, the buckets allow 2.56 calls/s, which needs 13 calls in flight; vendor.maxInFlight 4 reaches about 0.80/s',
    ]);
    const slow = parseStackConfig(
      openAi({ batchSize: 200, maxBatchingWindowSeconds: 2, lambdaTimeoutSeconds: 60 }, { maxInFlight: 16 }),
    );
    expect(poolWarnings(slow)).toEqual([
      expect.stringMatching(/^chat: a batch of 200 at 2\.56 calls\/s takes about 78 s to start/),
    ]);
    const sized = parseStackConfig(
      openAi({ batchSize: 64, maxBatchingWindowSeconds: 2, lambdaTimeoutSeconds: 120 }, { maxInFlight: 16 }),
    );
    expect(poolWarnings(sized)).toEqual([]);
  });

  it('warns when the pool is larger than a concurrent bucket allows plus one waiting record', () => {
    const sweeppea = parseStackConfig(
      validConfig({
        buckets: [{ dimension: 'sweeppea#concurrent', limitType: 'concurrent', capacity: 1 }],
        vendor: {
          name: 'sweeppea',
          baseUrl: 'https://api.sweeppea.com',
          operations: {
            createContact: { method: 'POST', path: '/v1/contacts', dimensions: { 'sweeppea#concurrent': 1 } },
          },
        },
      }),
    );
    expect(poolWarnings(sweeppea)).toEqual([
      expect.stringMatching(
        /^createContact: vendor.maxInFlight 16 is more than sweeppea#concurrent allows at once \(1\) plus one waiting/,
      ),
    ]);
    expect(poolWarnings({ ...sweeppea, vendor: { ...sweeppea.vendor, maxInFlight: 2 } })).toEqual([]);
  });

  it('bounds the default pool by a smaller batch, and keeps rejecting a pool asked for explicitly beyond it', () => {
    expect(parseStackConfig(openAi({ batchSize: 6 })).vendor.maxInFlight).toBe(6);
    expect(parseStackConfig(openAi({ batchSize: 200, maxBatchingWindowSeconds: 2 })).vendor.maxInFlight).toBe(
      16,
    );
    expect(problemsOf(openAi({ batchSize: 6 }, { maxInFlight: 7 }))).toEqual([
      'stack configuration: vendor.maxInFlight: must not exceed batchSize 6: a batch of 6 records can never keep 7 calls in flight (got 7)',
    ]);
  });

  it('gives the event source the batching window and shows the sizing warnings at synth', () => {
    const { stack, template } = synthStack(
      openAi({ batchSize: 40, maxBatchingWindowSeconds: 2 }, { maxInFlight: 8, expectedLatencyMs: 5_000 }),
    );
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 40,
      MaximumBatchingWindowInSeconds: 2,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    Annotations.fromStack(stack).hasWarning(
      '*',
      Match.stringLikeRegexp('chat: at 5000 ms a call, .* vendor.maxInFlight 8 reaches about 1.60/s'),
    );
  });

  it('gives a configuration that names no batch the batch its slot starts, with a 1 s window', () => {
    const { template } = synthStack();
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 35,
      MaximumBatchingWindowInSeconds: 1,
    });
  });

  it('keeps a default batch within 10 when the window is set to 0, and fits a slow bucket', () => {
    expect(parseStackConfig(openAi({ maxBatchingWindowSeconds: 0 })).batchSize).toBe(10);
    const slow = parseStackConfig(
      validConfig({
        buckets: [{ dimension: 'crm#rpm', limitType: 'requests', capacity: 6, windowSeconds: 60 }],
        vendor: {
          name: 'crm',
          baseUrl: 'https://crm.example.com',
          operations: { write: { method: 'POST', path: '/w', dimensions: { 'crm#rpm': 1 } } },
        },
      }),
    );
    // 0.1 call/s × 35 s: 3 records, and a pool bound of 3.
    expect([slow.batchSize, slow.vendor.maxInFlight, poolWarnings(slow)]).toEqual([3, 3, []]);
  });
});
