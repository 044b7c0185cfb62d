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
import {
  DEFAULT_MAX_IN_FLIGHT,
  DimensionNameSchema,
  type VendorSettings,
  VendorSettingsSchema,
} from '../lambda/worker-settings';
import {
  bucketDefinitions,
  bucketInputProblems,
  bucketProblems,
  environmentProblems,
  MIN_LAMBDA_TIMEOUT_SECONDS,
} from './config-rules';
import { PRODUCT_PRIORITIES, type ProductEntry, type ProductPolicy, productPolicies } from './product-shares';
import { defaultBatchSize, MAX_BATCH_SIZE, MAX_BATCH_WITHOUT_WINDOW, poolProblems } from './sizing';
import { COUNTINGS } from './vendor-limit';

/**
 * The stack configuration (config/*.json): read by the CDK app (bin/sluice.ts) and by the
 * local stack, validated once, every problem reported in one message. Values derived from
 * it (slot timeout, visibility timeout, ...) live in derived-settings.ts, which imports this
 * module (never the other way round).
 */

export { poolWarnings } from './sizing';

/**
 * Records per invocation unless configured: fewer when the slot cannot start that many at the
 * allowed rate (sizing.ts, `defaultBatchSize`). The pool drains at each batch's end, about one
 * vendor latency idle per batch, so the batch is as long as the slot allows up to this: at 3/s
 * and 1.5 s a call, 40 records left 11 % of the quota idle, 100 leave 4 %.
 */
export const DEFAULT_BATCH_SIZE = 100;
/** A batch over 10 records needs a batching window (sizing.ts); 1 s gathers it from a backlog at once. */
export const DEFAULT_BATCHING_WINDOW_SECONDS = 1;

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
  /** Leases for a hot time bucket (docs/design.md, "Leases for hot buckets"); the SDK checks the rest. */
  lease: z
    .strictObject({
      maxShare: z.number().positive().max(1, { error: 'must be > 0 and at most 1' }),
      seconds: z.number().int().min(1).max(300, { error: 'must be a whole number from 1 to 300' }),
    })
    .optional(),
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

const SHARE_RULE = 'a number in (0, 1], to the permille (e.g. 0.75)';

/** A product with its share of the vendor's limits (docs/deploy.md, "Fair shares"). */
const ProductObjectSchema = z.strictObject({
  name: ProductNameSchema,
  share: z
    .number({ error: `must be ${SHARE_RULE}` })
    .gt(0, { error: `must be ${SHARE_RULE}` })
    .max(1, { error: `must be ${SHARE_RULE}` })
    .refine((share) => Math.abs(share * 1000 - Math.round(share * 1000)) <= 1e-6, {
      error: `must be ${SHARE_RULE}`,
    })
    .optional(),
  priority: z.enum(PRODUCT_PRIORITIES, { error: 'must be interactive or batch' }).optional(),
  maxWaitSeconds: positiveInteger().optional(),
});

function productEntryError(issue: { input?: unknown }): string {
  return typeof issue.input === 'object' && issue.input !== null
    ? 'must be a product name or { name, share?, priority?, maxWaitSeconds? }'
    : 'must be 1-32 lowercase letters, digits or dashes, starting with a letter, or an object { name, share?, priority?, maxWaitSeconds? }';
}

const productName = (entry: ProductEntry) => (typeof entry === 'string' ? entry : entry.name);

/** Shares sum to at most 1 (the rest is common); reported on the list, whose value says nothing more. */
function shareSumProblems(entries: readonly ProductEntry[]) {
  const sum = entries.reduce(
    (total, e) => total + (typeof e === 'object' && typeof e.share === 'number' ? e.share : 0),
    0,
  );
  if (sum <= 1 + 1e-9) return [];
  const shares = entries
    .filter((e) => typeof e === 'object' && typeof e.share === 'number')
    .map((e) => `${(e as { name: string }).name} ${(e as { share: number }).share}`);
  return [
    {
      path: ['products'],
      message: `shares must sum to at most 1, the rest being common (got ${Math.round(sum * 1000) / 1000}: ${shares.join(' + ')})`,
      omitValue: true,
    },
  ];
}

const StackConfigSchema = z
  .strictObject({
    $comment: z.string().optional(),
    /** Stage name: `dev` stacks are disposable (table destroyed with the stack). */
    stage: z
      .string({ error: required('a non-empty string') })
      .regex(/^[a-z][a-z0-9-]{0,19}$/, { error: 'must be 1-20 lowercase letters, digits or dashes' }),
    lambdaTimeoutSeconds: integerIn(MIN_LAMBDA_TIMEOUT_SECONDS, 900).default(60),
    /**
     * Records per invocation; over 10 needs maxBatchingWindowSeconds (docs/deploy.md, "Sizing the
     * pool"). The default is large against the pool's default bound: the pool drains at the end
     * of each batch, which costs about one vendor latency per batch.
     */
    batchSize: integerIn(1, MAX_BATCH_SIZE).default(DEFAULT_BATCH_SIZE),
    /** How long the event source may gather a batch; 0 hands over what one poll returns. */
    maxBatchingWindowSeconds: integerIn(0, 300).default(DEFAULT_BATCHING_WINDOW_SECONDS),
    // Reserved concurrency 1 throttles extra pollers; each throttle costs a receive (docs/deploy.md, "Reserved concurrency 1").
    maxReceiveCount: integerIn(5, 1_000, 'an integer from 5 to 1000 (throttled receives count)').default(10),
    queueRetentionDays: integerIn(1, 13, 'an integer from 1 to 13 (the DLQ keeps 14)').default(4),
    vendorSecretName: z
      .string({ error: required('a non-empty string') })
      .min(1, { error: 'must not be empty' }),
    /**
     * The customer-managed KMS key the vendor secret is encrypted with (the worker gets
     * `kms:Decrypt` on it through Secrets Manager only). Omitted: the AWS-managed key.
     */
    secretKmsKeyArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[0-9a-f-]{36}$/, {
        error: 'must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>; not an alias)',
      })
      .optional(),
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
      .array(z.union([ProductNameSchema, ProductObjectSchema], { error: productEntryError }))
      .max(100, { error: 'must list at most 100 products (each is a metric dimension value)' })
      .refine((entries) => new Set(entries.map(productName)).size === entries.length, {
        error: 'must not name a product twice',
      })
      .default([]),
    /**
     * Who may send messages naming each product: SQS `SenderId` principal ids (a role's `AROA…`
     * id, a user's `AIDA…`, an account id), checked on a message's first delivery. Set, it must
     * name every product. Omitted: any principal allowed to send to the queue may name any product.
     */
    productSenders: z
      .record(
        z.string(),
        z
          .array(
            z.string().regex(/^[A-Z0-9]{12,128}$/, {
              error: 'must be a principal id (AROA…, AIDA… or an account id)',
            }),
          )
          .min(1, { error: 'must allow at least one sender' }),
      )
      .optional(),
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
            ...productSenderProblems({ ...config, products: config.products.map(productName) }),
            ...shareSumProblems(config.products),
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

/** `productSenders`, when set, names exactly the configured products. */
function productSenderProblems(config: {
  products: readonly string[];
  productSenders?: Record<string, readonly string[]> | undefined;
}): { path: (string | number)[]; message: string; omitValue?: boolean }[] {
  if (config.productSenders === undefined) return [];
  const named = Object.keys(config.productSenders);
  return [
    ...named
      .filter((product) => !config.products.includes(product))
      .map((product) => ({
        path: ['productSenders', product],
        message: `names no configured product (products: ${config.products.join(', ') || 'none'})`,
        omitValue: true,
      })),
    ...config.products
      .filter((product) => !named.includes(product))
      .map((product) => ({
        path: ['productSenders'],
        message: `must list the senders of every product: ${product} is missing`,
        omitValue: true,
      })),
  ];
}

type ParsedConfig = z.infer<typeof StackConfigSchema>;

/** A validated stack configuration; defaults applied. */
export interface StackConfig extends Omit<ParsedConfig, '$comment' | 'buckets' | 'vendor' | 'products'> {
  /** The bucket definitions, those given as `vendorLimit` derived (capacity and window). */
  readonly buckets: readonly BucketDefinition[];
  readonly vendor: VendorSettings;
  /** The products' names, in the order configured. */
  readonly products: readonly string[];
  /**
   * Each product's share, priority and longest wait (product-shares.ts), as parsed; absent on a
   * configuration built in code, which then means equal shares of `products`.
   */
  readonly productPolicies?: readonly ProductPolicy[];
  /**
   * One line per bucket given as `vendorLimit`: what was derived from it and why (printed by
   * synth and `npm start`). Not an input: a configuration passed back to parseStackConfig
   * must leave it out.
   */
  readonly bucketDerivations?: readonly string[];
}

/** The products' policies: as parsed, or equal shares of the names. */
export function policiesOf(
  config: Pick<StackConfig, 'products' | 'productPolicies'>,
): readonly ProductPolicy[] {
  return config.productPolicies ?? productPolicies(config.products);
}
export type StackConfigInput = z.input<typeof StackConfigSchema>;
export type AlarmThresholds = StackConfig['alarms'];

/** What a stack configuration error is about: `Invalid stack configuration (N problems):`. */
export const STACK_CONFIG_SUBJECT = 'stack configuration';

/** Whether the input names `batchSize` and `vendor.maxInFlight` itself (else their defaults fit the rest). */
interface PoolChoices {
  readonly batchSize: boolean;
  readonly maxInFlight: boolean;
}

function poolChoices(input: unknown): PoolChoices {
  const record = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const vendor = record.vendor;
  return {
    batchSize: record.batchSize !== undefined,
    maxInFlight: typeof vendor !== 'object' || vendor === null || 'maxInFlight' in vendor,
  };
}

/**
 * Before the rules: a default batch without a batching window is at most 10 (what SQS hands over
 * without one), and a default pool bound is at most the batch.
 */
function withPoolBounds(input: unknown, chosen: PoolChoices): unknown {
  if (typeof input !== 'object' || input === null) return input;
  const record = input as Record<string, unknown>;
  let out: Record<string, unknown> = record;
  if (!chosen.batchSize && record.maxBatchingWindowSeconds === 0) {
    out = { ...out, batchSize: MAX_BATCH_WITHOUT_WINDOW };
  }
  const batch = out.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!chosen.maxInFlight && Number.isInteger(batch) && (batch as number) >= 1) {
    out = {
      ...out,
      vendor: { ...(record.vendor as object), maxInFlight: Math.min(DEFAULT_MAX_IN_FLIGHT, batch as number) },
    };
  }
  return out;
}

/**
 * After the rules: a default batch no larger than the slot can start at the slowest
 * operation's allowed rate (docs/deploy.md, "Sizing the pool", rule 4), and a default pool
 * bound no larger than that batch.
 */
function fittedPool<T extends StackConfig>(config: T, chosen: PoolChoices): T {
  const batchSize = chosen.batchSize
    ? config.batchSize
    : Math.min(config.batchSize, defaultBatchSize(config));
  const maxInFlight = chosen.maxInFlight
    ? config.vendor.maxInFlight
    : Math.min(config.vendor.maxInFlight, batchSize);
  if (batchSize === config.batchSize && maxInFlight === config.vendor.maxInFlight) return config;
  return { ...config, batchSize, vendor: { ...config.vendor, maxInFlight } };
}

/**
 * Validates a parsed JSON value; throws a SluiceConfigError naming every problem as
 * `source: path: rule (got value)`.
 */
export function parseStackConfig(input: unknown, source = STACK_CONFIG_SUBJECT): StackConfig {
  const chosen = poolChoices(input);
  const result = StackConfigSchema.safeParse(withPoolBounds(input, chosen));
  if (result.success) {
    const { $comment: _comment, products, buckets, ...config } = result.data;
    const { definitions, derivations } = bucketDefinitions(buckets, config.vendor);
    return fittedPool(
      {
        ...config,
        buckets: definitions,
        bucketDerivations: derivations,
        products: products.map(productName),
        productPolicies: productPolicies(products),
      },
      chosen,
    );
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
