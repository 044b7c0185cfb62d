import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SluiceConfigError, SluiceError } from '../../lambda/sluice';
import { loadStackConfig, parseStackConfig } from '../../lib/config';
import { validConfig } from './fixtures';

function problemsOf(input: unknown): string {
  try {
    parseStackConfig(input, 'config/x.json');
  } catch (error) {
    if (error instanceof SluiceConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('parseStackConfig', () => {
  it('applies the documented defaults to a minimal configuration', () => {
    const config = parseStackConfig(validConfig());
    expect({
      lambdaTimeoutSeconds: config.lambdaTimeoutSeconds,
      batchSize: config.batchSize,
      maxReceiveCount: config.maxReceiveCount,
      queueRetentionDays: config.queueRetentionDays,
      reconcilerEveryMinutes: config.reconcilerEveryMinutes,
      sdkMaxRetries: config.sdkMaxRetries,
      logLevel: config.logLevel,
      logRetentionDays: config.logRetentionDays,
      alarms: config.alarms,
      inlineRetryThresholdSeconds: config.vendor.policy.inlineRetryThresholdSeconds,
    }).toEqual({
      lambdaTimeoutSeconds: 60,
      // What the slot starts at the 1/s bucket: (60 − 5 − a 20 s call) s × 1/s.
      batchSize: 35,
      maxReceiveCount: 10,
      queueRetentionDays: 4,
      reconcilerEveryMinutes: 1,
      sdkMaxRetries: 3,
      logLevel: 'INFO',
      logRetentionDays: 30,
      alarms: {
        oldestMessageAgeSeconds: 900,
        endToEndAgeSeconds: 3_600,
        vendor429AfterGrantPerFiveMinutes: 5,
        workerErrorsPerFiveMinutes: 1,
        workerThrottlesPerFiveMinutes: 1,
        circuitOpenSeconds: 600,
      },
      inlineRetryThresholdSeconds: 5,
    });
  });

  it.each(readdirSync('config').filter((file) => file.endsWith('.json')))(
    'accepts the shipped configuration config/%s',
    (file) => {
      expect(loadStackConfig(join('config', file)).stage).toMatch(/^[a-z]/);
    },
  );

  it('lists every field problem in one message, each with the file, the path, the rule and the value', () => {
    const input = validConfig({
      stage: '',
      lambdaTimeoutSeconds: 5,
      batchSize: 10_001,
      maxReceiveCount: 3,
      buckets: [{ dimension: 'waitwhile#rps', limitType: 'requests', capacity: -1, windowSeconds: 1 }],
    });
    expect(problemsOf({ ...input, vendorSecretName: undefined, bogus: true })).toBe(
      [
        'Invalid stack configuration (8 problems):',
        '  config/x.json: stage: must be 1-20 lowercase letters, digits or dashes (got "")',
        '  config/x.json: lambdaTimeoutSeconds: must be an integer from 10 to 900 (got 5)',
        '  config/x.json: batchSize: must be an integer from 1 to 10000 (got 10001)',
        '  config/x.json: maxReceiveCount: must be an integer from 5 to 1000 (throttled receives count) (got 3)',
        '  config/x.json: vendorSecretName: is required',
        '  config/x.json: buckets.0.capacity: must be a positive integer (got -1)',
        '  config/x.json: bogus: is not a known field',
        '  config/x.json: vendor.operations.createVisit.dimensions.waitwhile#location-writes#{locationId}: names no bucket: define waitwhile#location-writes#* in buckets',
      ].join('\n'),
    );
  });

  it('accepts a fractional window in whole milliseconds, and refuses any other', () => {
    const withWindow = (seconds: number) =>
      validConfig({
        buckets: [
          { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 1, windowSeconds: seconds },
          { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 1, windowSeconds: 1 },
        ],
      });
    for (const seconds of [0.334, 0.001, 1.5, 60]) {
      expect(parseStackConfig(withWindow(seconds)).buckets[0]?.windowSeconds).toBe(seconds);
    }
    const rule = `must be a number of seconds, > 0 and at most 31622400, in whole milliseconds (e.g. 60, 1 or 0.334)`;
    for (const seconds of [0.3334, 0, -1, 31_622_401]) {
      expect(problemsOf(withWindow(seconds))).toBe(
        `Invalid stack configuration (1 problem):\n  config/x.json: buckets.0.windowSeconds: ${rule} (got ${seconds})`,
      );
    }
  });

  it('takes a lease for a hot bucket and reports a bad one', () => {
    const { buckets } = validConfig();
    // `value` as the JSON file may hold it, well-formed or not.
    const lease = (value: unknown) =>
      validConfig({ buckets: buckets.map((b, i) => (i === 0 ? { ...b, lease: value as never } : b)) });
    expect(parseStackConfig(lease({ maxShare: 0.1, seconds: 2 }), 'config/x.json').buckets[0]?.lease).toEqual(
      {
        maxShare: 0.1,
        seconds: 2,
      },
    );
    expect(problemsOf(lease({ maxShare: 2, seconds: 0.5 }))).toBe(
      [
        'Invalid stack configuration (2 problems):',
        '  config/x.json: buckets.0.lease.maxShare: must be > 0 and at most 1 (got 2)',
        '  config/x.json: buckets.0.lease.seconds: Invalid input: expected int, received number (got 0.5)',
      ].join('\n'),
    );
  });

  it('checks the buckets against each other and against the vendor operations', () => {
    const input = validConfig({
      buckets: [
        { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 5 },
        { dimension: 'waitwhile#rps', limitType: 'concurrent', capacity: 2, windowSeconds: 3 },
        { dimension: 'waitwhile#writes#{locationId}', limitType: 'tokens', capacity: 10, windowSeconds: 60 },
        { dimension: 'openai#tpm', limitType: 'tokens', capacity: 100, windowSeconds: 60, costPerCall: 500 },
      ],
    });
    expect(problemsOf(input)).toBe(
      [
        'Invalid stack configuration (6 problems):',
        '  config/x.json: buckets.0.windowSeconds: is required for limitType requests',
        '  config/x.json: buckets.1.windowSeconds: must be omitted for limitType concurrent (no refill) (got 3)',
        '  config/x.json: buckets.2.dimension: must use the key * for a keyed bucket, not a {placeholder} (got "waitwhile#writes#{locationId}")',
        '  config/x.json: buckets.3.costPerCall: must not exceed capacity 100 (it could never be granted) (got 500)',
        '  config/x.json: buckets.1.dimension: duplicates buckets.0.dimension (got "waitwhile#rps")',
        '  config/x.json: vendor.operations.createVisit.dimensions.waitwhile#location-writes#{locationId}: names no bucket: define waitwhile#location-writes#* in buckets',
      ].join('\n'),
    );
  });

  it("refuses a vendor named after the prefix of the table's own records (idempotency, circuit)", () => {
    const input = validConfig({
      buckets: [
        ...validConfig().buckets,
        { dimension: 'idem#rps', limitType: 'requests', capacity: 5, windowSeconds: 1 },
        { dimension: 'circuit#writes#*', limitType: 'requests', capacity: 5, windowSeconds: 1 },
      ],
    });
    expect(problemsOf(input)).toBe(
      [
        'Invalid stack configuration (2 problems):',
        '  config/x.json: buckets.3.dimension: must not name the vendor "idem": the bucket table keys its own records under "idem#" (got "idem#rps")',
        '  config/x.json: buckets.4.dimension: must not name the vendor "circuit": the bucket table keys its own records under "circuit#" (got "circuit#writes#*")',
      ].join('\n'),
    );
  });

  it('takes productSenders naming exactly the products, with principal ids', () => {
    expect(
      parseStackConfig(
        validConfig({ products: ['checkout'], productSenders: { checkout: ['AROAEXAMPLEROLEID1'] } }),
      ).productSenders,
    ).toEqual({ checkout: ['AROAEXAMPLEROLEID1'] });
    const input = validConfig({
      products: ['checkout', 'support'],
      productSenders: { checkout: ['arn:aws:iam::111122223333:role/x'], other: ['AROAEXAMPLEROLEID1'] },
    });
    expect(problemsOf(input)).toBe(
      [
        'Invalid stack configuration (3 problems):',
        '  config/x.json: productSenders.checkout.0: must be a principal id (AROA…, AIDA… or an account id) (got "arn:aws:iam::111122223333:role/x")',
        '  config/x.json: productSenders.other: names no configured product (products: checkout, support)',
        '  config/x.json: productSenders: must list the senders of every product: support is missing',
      ].join('\n'),
    );
  });

  it('rejects an operation cost larger than its bucket and an inline threshold as long as the slot', () => {
    const input = validConfig({
      lambdaTimeoutSeconds: 10,
      vendor: {
        name: 'waitwhile',
        baseUrl: 'https://api.waitwhile.com/v2',
        operations: { burst: { method: 'GET', path: '/x', dimensions: { 'waitwhile#rps': 6 } } },
        policy: { inlineRetryThresholdSeconds: 5 },
      },
    });
    expect(problemsOf(input)).toBe(
      [
        'Invalid stack configuration (2 problems):',
        '  config/x.json: vendor.operations.burst.dimensions.waitwhile#rps: costs more than the capacity 5 of waitwhile#rps (it could never be granted) (got 6)',
        '  config/x.json: lambdaTimeoutSeconds: must be at least 11: the slot (lambdaTimeoutSeconds - 5 = 5 s) must be longer than the inline retry wait, vendor.policy.inlineRetryThresholdSeconds = 5 s (its default) (got 10)',
      ].join('\n'),
    );
  });

  it('words the timeout rule in terms of the field the user wrote, and accepts 11 with the default threshold', () => {
    expect(problemsOf(validConfig({ lambdaTimeoutSeconds: 10 }))).toBe(
      [
        'Invalid stack configuration (1 problem):',
        '  config/x.json: lambdaTimeoutSeconds: must be at least 11: the slot (lambdaTimeoutSeconds - 5 = 5 s) must be longer than the inline retry wait, vendor.policy.inlineRetryThresholdSeconds = 5 s (its default) (got 10)',
      ].join('\n'),
    );
    expect(parseStackConfig(validConfig({ lambdaTimeoutSeconds: 11 })).lambdaTimeoutSeconds).toBe(11);
  });

  it('accepts the shortest timeout, 10 s, with an inline threshold under its 5 s slot', () => {
    const config = validConfig({ lambdaTimeoutSeconds: 10 });
    const vendor = {
      ...(config.vendor as Record<string, unknown>),
      policy: { inlineRetryThresholdSeconds: 4 },
    };
    expect(parseStackConfig({ ...config, vendor }).lambdaTimeoutSeconds).toBe(10);
  });

  it('refuses two places for alarm actions and vendor settings too large for the Lambda environment', () => {
    const operations = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `operation${i}`,
        { method: 'GET' as const, path: `/things/${i}`, dimensions: { 'waitwhile#rps': 1 } },
      ]),
    );
    const input = validConfig({
      alarmEmail: 'ops@example.com',
      alarmTopicArn: 'arn:aws:sns:eu-west-1:123456789012:ops',
      vendor: { name: 'waitwhile', baseUrl: 'https://api.waitwhile.com/v2', operations },
    });
    expect(problemsOf(input)).toMatch(
      /^Invalid stack configuration \(2 problems\):\n {2}config\/x\.json: vendor: takes \d+ bytes as JSON, over 3000 \(Lambda environment variables share 4 KB\) \(got .*\)\n {2}config\/x\.json: alarmEmail: cannot be combined with alarmTopicArn: choose one$/,
    );
  });

  it('refuses 429 among the busy statuses and a misspelt vendor field', () => {
    const vendor = { ...validConfig().vendor, busyStatuses: [409, 429], allowedPath: ['/x'] };
    expect(problemsOf(validConfig({ vendor } as object))).toBe(
      [
        'Invalid stack configuration (2 problems):',
        '  config/x.json: vendor.busyStatuses: 429 is rate limiting, not back-pressure (got [409,429])',
        '  config/x.json: vendor.allowedPath: is not a known field',
      ].join('\n'),
    );
  });

  it('names a missing section instead of describing its type', () => {
    expect(problemsOf({})).toBe(
      [
        'Invalid stack configuration (4 problems):',
        '  config/x.json: stage: is required',
        '  config/x.json: vendorSecretName: is required',
        '  config/x.json: buckets: is required',
        '  config/x.json: vendor: is required',
      ].join('\n'),
    );
  });

  it('throws a SluiceConfigError that carries every problem separately', () => {
    const error = (() => {
      try {
        return parseStackConfig(validConfig({ stage: 'Prod', batchSize: 0 }));
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(SluiceConfigError);
    expect((error as SluiceConfigError).subject).toBe('stack configuration');
    expect((error as SluiceConfigError).problems).toEqual([
      'stack configuration: stage: must be 1-20 lowercase letters, digits or dashes (got "Prod")',
      'stack configuration: batchSize: must be an integer from 1 to 10000 (got 0)',
    ]);
  });
});

describe('loadStackConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-config-'));

  it('names the file and the position of a JSON syntax error', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{\n  "stage": "dev",\n}');
    expect(() => loadStackConfig(file)).toThrow(
      `Stack configuration ${file} is not valid JSON (line 3, column 1): Expected double-quoted property name`,
    );
  });

  it('names a file it cannot read', () => {
    const file = join(dir, 'missing.json');
    expect(() => loadStackConfig(file)).toThrow(
      `Cannot read stack configuration ${file}: ENOENT: no such file or directory, open '${file}'`,
    );
  });

  it('throws the one configuration error for an unreadable or broken file, keeping the cause', () => {
    const broken = join(dir, 'broken-again.json');
    writeFileSync(broken, '{ "stage": ');
    for (const [file, cause] of [
      [join(dir, 'absent.json'), /^Error: ENOENT/],
      [broken, /^SyntaxError/],
    ] as const) {
      const error = (() => {
        try {
          return loadStackConfig(file);
        } catch (caught) {
          return caught;
        }
      })();
      expect(error).toBeInstanceOf(SluiceConfigError);
      expect(error).toBeInstanceOf(SluiceError);
      expect((error as SluiceConfigError).problems).toHaveLength(1);
      // The error it wraps (fs and JSON errors come from Node's own realm, so not `instanceof Error` here).
      expect(String((error as SluiceConfigError).cause)).toMatch(cause);
    }
  });

  it('lets an override replace the stage before validation', () => {
    const file = join(dir, 'ok.json');
    writeFileSync(file, JSON.stringify(validConfig()));
    expect(loadStackConfig(file, { stage: 'prod' }).stage).toBe('prod');
    expect(() => loadStackConfig(file, { stage: 'PROD' })).toThrow(
      `Invalid stack configuration (1 problem):\n  ${file}: stage: must be 1-20 lowercase letters, digits or dashes (got "PROD")`,
    );
  });
});
