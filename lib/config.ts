import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ProductNameSchema } from '../lambda/producer/outcome';
import {
  type BucketDefinition,
  LIMIT_TYPES,
  MAX_WINDOW_SECONDS,
  pathPlace,
  SluiceConfigError,
  zodProblems,
} from '../lambda/sluice';
import { DimensionNameSchema, type VendorSettings, VendorSettingsSchema } from '../lambda/worker-settings';
import {
  bucketDefinitions,
  bucketInputProblems,
  bucketProblems,
  environmentProblems,
  MIN_LAMBDA_TIMEOUT_SECONDS,
} from './config-rules';
import { MAX_BATCH_SIZE, poolProblems } from './sizing';
import { COUNTINGS } from './vendor-limit';

/**
 * The stack configuration (config/*.json): read by the CDK app (bin/sluice.ts) and by the
 * local stack, validated once, every problem reported in one message. Values derived from
 * it (slot timeout, visibility timeout, ...) live in derived-settings.ts, which imports this
 * module (never the other way round).
 */

export { poolWarnings } from './sizing';

/** Log retention values CloudWatch Logs accepts, in days. */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] as const;

const required = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : `must be ${what}`;

const integerIn = (min: number, max: number, what = `an integer from ${min} to ${max}`) =>
  z
    .number({ error: required(what) })
    .int({ error: `must be ${what}` })
    .min(min, { error: `must be ${what}` })
    .max(max, { error: `must be ${what}` });

const positiveInteger = (what = 'a positive integer') =>
  z
    .number({ error: required(what) })
    .int({ error: `must be ${what}` })
    .positive({ error: `must be ${what}` });

const WINDOW_RULE = `a number of seconds, > 0 and at most ${MAX_WINDOW_SECONDS}, in whole milliseconds (e.g. 60, 1 or 0.334)`;

/**
 * A bucket's window: fractions allowed, so a bucket can refill one unit at a time at any rate
 * ("3 per second with a burst of 1" is capacity 1, windowSeconds 0.334), to the millisecond the
 * SDK stores (docs/deploy.md, "Matching the vendor's limit").
 */
const windowSeconds = z
  .number({ error: required(WINDOW_RULE) })
  .positive({ error: `must be ${WINDOW_RULE}` })
  .max(MAX_WINDOW_SECONDS, { error: `must be ${WINDOW_RULE}` })
  .refine((seconds) => Math.abs(seconds * 1000 - Math.round(seconds * 1000)) <= 1e-6, {
    error: `must be ${WINDOW_RULE}`,
  });

/**
 * A limit as the vendor documents it ("3 requests per 1 s, fixed window"): Sluice derives the
 * bucket (vendor-limit.ts). One of `requests` or `tokens`; `burst` for a token bucket only.
 */
const VendorLimitSchema = z.strictObject({
  requests: positiveInteger().optional(),
  tokens: positiveInteger().optional(),
  perSeconds: z
    .number({ error: required(WINDOW_RULE) })
    .positive({ error: `must be ${WINDOW_RULE}` })
    .max(MAX_WINDOW_SECONDS, { error: `must be ${WINDOW_RULE}` }),
  counting: z.enum(COUNTINGS, { error: `must be one of ${COUNTINGS.join(', ')}` }).default('unknown'),
  burst: positiveInteger().optional(),
  jitterSeconds: z
    .number({ error: 'must be a number of seconds from 0 to 10' })
    .min(0, { error: 'must be a number of seconds from 0 to 10' })
    .max(10, { error: 'must be a number of seconds from 0 to 10' })
    .optional(),
});

/**
 * A bucket: the vendor's limit in its own words (`vendorLimit`), or the bucket itself for
 * experts (`limitType`, `capacity`, `windowSeconds`); never both (bucketProblems).
 */
const BucketSchema = z.strictObject({
  dimension: DimensionNameSchema,
  limitType: z
    .enum(LIMIT_TYPES, {
      error: required('one of requests, tokens, concurrent'),
    })
    .optional(),
  capacity: positiveInteger().optional(),
  windowSeconds: windowSeconds.optional(),
  costPerCall: positiveInteger().optional(),
  vendorLimit: VendorLimitSchema.optional(),
});

const AlarmsSchema = z.strictObject({
  /** Age of the oldest message in the queue before the alarm fires. */
  oldestMessageAgeSeconds: positiveInteger().default(900),
  /** The worker's own end-to-end message age (requeues reset the queue's age). */
  endToEndAgeSeconds: positiveInteger().default(3_600),
  /** Vendor 429 answers after a grant, summed over 5 minutes, before the alarm fires. */
  vendor429AfterGrantPerFiveMinutes: positiveInteger().default(5),
  /** Worker errors (Lambda `Errors`), and separately messages failed in the worker (`MessageFailures`), summed over 5 minutes before their alarm fires. */
  workerErrorsPerFiveMinutes: positiveInteger().default(1),
  /** Worker throttles summed over 5 minutes before the alarm fires. */
  workerThrottlesPerFiveMinutes: positiveInteger().default(1),
  /** How long the vendor circuit may stay open (or unauthorized) before the alarm fires. */
  circuitOpenSeconds: positiveInteger().default(600),
});

const StackConfigSchema = z
  .strictObject({
    $comment: z.string().optional(),
    /** Stage name: `dev` stacks are disposable (table destroyed with the stack). */
    stage: z
      .string({ error: required('a non-empty string') })
      .regex(/^[a-z][a-z0-9-]{0,19}$/, { error: 'must be 1-20 lowercase letters, digits or dashes' }),
    lambdaTimeoutSeconds: integerIn(MIN_LAMBDA_TIMEOUT_SECONDS, 900).default(60),
    /** Records per invocation; over 10 needs maxBatchingWindowSeconds (docs/deploy.md, "Sizing the pool"). */
    batchSize: integerIn(1, MAX_BATCH_SIZE).default(5),
    /** How long the event source may gather a batch; 0 hands over what one poll returns. */
    maxBatchingWindowSeconds: integerIn(0, 300).default(0),
    // Reserved concurrency 1 throttles extra pollers; each throttle costs a receive (docs/deploy.md, "Reserved concurrency 1").
    maxReceiveCount: integerIn(5, 1_000, 'an integer from 5 to 1000 (throttled receives count)').default(10),
    queueRetentionDays: integerIn(1, 13, 'an integer from 1 to 13 (the DLQ keeps 14)').default(4),
    vendorSecretName: z
      .string({ error: required('a non-empty string') })
      .min(1, { error: 'must not be empty' }),
    reconcilerEveryMinutes: integerIn(1, 1_440).default(1),
    /** Version-conflict retries of the SDK (SLUICE_MAX_RETRIES). */
    sdkMaxRetries: integerIn(0, 10).default(3),
    logLevel: z
      .enum(['DEBUG', 'INFO', 'WARN', 'ERROR'], { error: 'must be DEBUG, INFO, WARN or ERROR' })
      .default('INFO'),
    logRetentionDays: z
      .number()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        error: `must be one of ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    buckets: z
      .array(BucketSchema, { error: required('a list') })
      .min(1, { error: 'needs at least one bucket' }),
    // Strict, as the rest of the file: a misspelt field is an error, not ignored. tokenDimensions
    // is derived from `buckets` (workerEnvironment), so it is not part of the input.
    vendor: VendorSettingsSchema.omit({ tokenDimensions: true }).strict(),
    /**
     * The products that share this worker: a message names one, and its outcome is published
     * for that product's subscription (docs/worker.md, "Outcomes"). Empty: no outcomes.
     */
    products: z
      .array(ProductNameSchema)
      .max(100, { error: 'must list at most 100 products (each is a metric dimension value)' })
      .refine((names) => new Set(names).size === names.length, { error: 'must not name a product twice' })
      .default([]),
    /** Days a claim-checked answer body stays in the outcome bucket before its lifecycle rule expires it. */
    outcomeBodyRetentionDays: integerIn(1, 365).default(7),
    alarms: AlarmsSchema.default(AlarmsSchema.parse({})),
    /** Creates an SNS topic for alarm actions with this email subscribed. */
    alarmEmail: z.email({ error: 'must be an email address' }).optional(),
    /** An existing SNS topic for alarm actions. */
    alarmTopicArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/, { error: 'must be an SNS topic ARN' })
      .optional(),
  })
  .superRefine(
    (config, ctx) => {
      const forms = bucketInputProblems(config.buckets, config.vendor);
      // The other rules read the buckets as the SDK stores them, vendor limits derived.
      const derived =
        forms.length === 0
          ? { ...config, buckets: bucketDefinitions(config.buckets, config.vendor).definitions }
          : undefined;
      const problems = derived
        ? [
            ...bucketProblems(derived.buckets, config.vendor),
            ...environmentProblems(derived),
            ...poolProblems(derived),
          ]
        : forms;
      for (const problem of problems) {
        ctx.addIssue({
          code: 'custom',
          message: problem.message,
          path: problem.path,
          params: { omitValue: problem.omitValue ?? false },
        });
      }
    },
    // Zod skips refinements after any aborting issue; these rules only need their own fields.
    {
      when: (payload) => payload.issues.every((issue) => issue.continue === true || !blocksRules(issue.path)),
    },
  );

/** Fields the cross-field rules read: an aborting problem in one of them (or at the root) skips the rules. */
const RULE_FIELDS = new Set<PropertyKey>([
  'buckets',
  'vendor',
  'lambdaTimeoutSeconds',
  'batchSize',
  'maxBatchingWindowSeconds',
  'alarmEmail',
  'alarmTopicArn',
]);
function blocksRules(path: readonly PropertyKey[] | undefined): boolean {
  const field = path?.[0];
  return field === undefined || RULE_FIELDS.has(field);
}

type ParsedConfig = z.infer<typeof StackConfigSchema>;

/** A validated stack configuration; defaults applied. */
export interface StackConfig extends Omit<ParsedConfig, '$comment' | 'buckets' | 'vendor'> {
  /** The bucket definitions, those given as `vendorLimit` derived (capacity and window). */
  readonly buckets: readonly BucketDefinition[];
  readonly vendor: VendorSettings;
  /**
   * One line per bucket given as `vendorLimit`: what was derived from it and why (printed by
   * synth and `npm start`). Not an input: a configuration passed back to parseStackConfig
   * must leave it out.
   */
  readonly bucketDerivations?: readonly string[];
}
export type StackConfigInput = z.input<typeof StackConfigSchema>;
export type AlarmThresholds = StackConfig['alarms'];

/** What a stack configuration error is about: `Invalid stack configuration (N problems):`. */
export const STACK_CONFIG_SUBJECT = 'stack configuration';

/**
 * Validates a parsed JSON value; throws a SluiceConfigError naming every problem as
 * `source: path: rule (got value)`.
 */
export function parseStackConfig(input: unknown, source = STACK_CONFIG_SUBJECT): StackConfig {
  const result = StackConfigSchema.safeParse(input);
  if (result.success) {
    const { $comment: _comment, buckets, ...config } = result.data;
    const { definitions, derivations } = bucketDefinitions(buckets, config.vendor);
    return { ...config, buckets: definitions, bucketDerivations: derivations };
  }
  throw new SluiceConfigError(STACK_CONFIG_SUBJECT, zodProblems(result.error, input, pathPlace(source)));
}

/**
 * Reads and validates a JSON file; a syntax error names the file and the position.
 * `overrides` replace top-level fields before validation (e.g. the stage from `-c sluice:stage=prod`).
 */
export function loadStackConfig(path: string, overrides: Partial<StackConfigInput> = {}): StackConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SluiceConfigError(
      STACK_CONFIG_SUBJECT,
      [`Cannot read stack configuration ${path}: ${(error as Error).message}`],
      { cause: error },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SluiceConfigError(
      STACK_CONFIG_SUBJECT,
      [`Stack configuration ${path} is not valid JSON${jsonErrorDetail(text, error as Error)}`],
      { cause: error },
    );
  }
  const isObject = typeof json === 'object' && json !== null && !Array.isArray(json);
  return parseStackConfig(isObject ? { ...(json as Record<string, unknown>), ...overrides } : json, path);
}

/** ` (line L, column C): reason`, the same on every Node version (their messages differ in the tail). */
function jsonErrorDetail(text: string, error: Error): string {
  const position = /at position (\d+)/.exec(error.message)?.[1];
  const reason = error.message.replace(/ in JSON at position \d+.*$/, '');
  if (position === undefined) return `: ${reason}`;
  const before = text.slice(0, Number(position));
  const line = before.split('\n').length;
  const column = Number(position) - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column}): ${reason}`;
}
