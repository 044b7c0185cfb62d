import { z } from 'zod';
import { type ProblemPlace, SluiceConfigError, zodProblems } from './sluice';

/**
 * What the worker needs to know about its vendor: where it is, which paths it may call,
 * the named operations with their default dimensions and costs, and the decision-tree
 * policy. Part of the stack configuration (config/*.json, `vendor`), handed to the worker
 * as JSON in SLUICE_VENDOR_SETTINGS. Validated once, every problem reported together.
 */

/**
 * The pool's default bound. The worker sizes the pool below it from the vendor's observed rate
 * and latency (lambda/worker/policy/pool-size.ts), so this is what a slow vendor may reach by default:
 * 16 is 1.5 × the calls in flight of 7/s at 1.5 s or 3/s at 3 s, plus one waiting.
 */
export const DEFAULT_MAX_IN_FLIGHT = 16;

/** 4 MiB: far above a JSON API's usual answer, far below a worker's memory. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;
/** 64 MiB: a few of these in flight still fit a worker's memory next to the read cache. */
export const MAX_RESPONSE_BYTES_LIMIT = 64 * 1024 * 1024;

const dimensionName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]*#[a-z0-9][a-z0-9_-]*(#[^#\s]+)?$/i,
    'must look like vendor#metric or vendor#metric#key',
  );

/** Costs per dimension. A key placeholder `{field}` in a dimension is filled from the message's `keys`. */
const costs = z.record(z.string().min(3), z.number().int().nonnegative());

/**
 * A configured path must mean what it says: the URL parser (which `fetch` uses, and which the
 * worker checks every request against) must keep it as written, so no dot segment, no tab, no
 * character it would encode. True, or the rule broken.
 */
function pathKeptAsWritten(path: string): true | string {
  const written = path.split(/[?#]/, 1)[0] ?? path;
  let parsed: string;
  try {
    parsed = new URL(written, 'https://vendor.invalid').pathname;
  } catch {
    return 'must be a valid URL path';
  }
  if (parsed === written) return true;
  return `must be a path the URL parser keeps as written (it reads ${JSON.stringify(written)} as ${JSON.stringify(parsed)}): no dot segments, control characters or backslashes; percent-encode anything else`;
}

export const OperationSchema = z
  .object({
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
    /** Path relative to `baseUrl`; `{name}` placeholders are filled from the message's `params`. */
    path: z.string().startsWith('/'),
    /**
     * Dimensions and costs every call of this operation takes. A message never drops one; it
     * changes a cost only where `messagePriced` allows (a tokens dimension takes its token estimate).
     */
    dimensions: costs.refine((value) => Object.keys(value).length > 0, 'needs at least one dimension'),
    /**
     * Dimensions (keys of `dimensions`) whose cost a message may give, in its `dimensions` or
     * as its `tokenEstimate`, each mapped to the least it may give. A tokens dimension is
     * message-priced with a minimum of 1 unless listed here; every other one is not.
     */
    messagePriced: costs.optional(),
    /** Safe to repeat after an unknown outcome (GET, or the vendor honours the idempotency key). */
    idempotent: z.boolean().optional(),
    /** Cache successful answers for this many seconds (idempotent reads only). 0 = off. */
    cacheSeconds: z.number().nonnegative().default(0),
  })
  .superRefine((operation, context) => {
    const kept = pathKeptAsWritten(operation.path.replace(/\{[^}]+\}/g, 'x'));
    if (kept !== true) context.addIssue({ code: 'custom', path: ['path'], message: kept });
    for (const [template, minimum] of Object.entries(operation.messagePriced ?? {})) {
      const cost = operation.dimensions[template];
      if (cost === undefined) {
        context.addIssue({
          code: 'custom',
          path: ['messagePriced', template],
          message: `names no dimension of this operation (its dimensions: ${Object.keys(operation.dimensions).join(', ')})`,
          params: { omitValue: true },
        });
      } else if (cost < minimum) {
        context.addIssue({
          code: 'custom',
          path: ['messagePriced', template],
          message: `must not exceed the operation's own cost ${cost} for it (the minimum a message may give)`,
        });
      }
    }
  });

/**
 * A message requeued this often is stuck, not waiting: with the shortest requeue delays it
 * would still be calling after days, and every attempt costs an SQS send and an acquire.
 */
export const MAX_ATTEMPTS_LIMIT = 1_000;
/**
 * 7 days, as long as the worker remembers a completed id (lambda/idempotency/store.ts): a
 * message still alive past that could meet a duplicate whose first run is forgotten.
 */
export const MAX_AGE_SECONDS_LIMIT = 7 * 86_400;

export const PolicySchema = z.object({
  /** Waits up to this long are slept inline; longer ones requeue. */
  inlineRetryThresholdSeconds: z.number().positive().default(5),
  /** Requeue attempts before the message is dead-lettered. */
  maxAttempts: z.number().int().positive().max(MAX_ATTEMPTS_LIMIT).default(20),
  /** End-to-end age (from first enqueue) before the message is dead-lettered. */
  maxAgeSeconds: z.number().int().positive().max(MAX_AGE_SECONDS_LIMIT).default(86_400),
  /** A second 429 within this window counts as "repeated" (factor 0.5). */
  repeated429WindowSeconds: z.number().positive().default(60),
  /** A Retry-After above this counts as "long" (factor 0.3). */
  longRetryAfterSeconds: z.number().positive().default(30),
  /** Upper bound of the full jitter added to requeue delays. */
  requeueJitterSeconds: z.number().int().nonnegative().default(3),
  /** Retries of 408/5xx/timeouts/network errors within one invocation. */
  maxVendorRetries: z.number().int().nonnegative().default(2),
  backoffBaseMs: z.number().int().positive().default(200),
  backoffMaxMs: z.number().int().positive().default(5_000),
  /** Upper bound on a Retry-After the worker will honour. */
  maxRetryAfterSeconds: z.number().int().positive().default(900),
});

/**
 * The vendor circuit (docs/worker.md, "Vendor outages"). A probe interval is at most 900 s,
 * so a deferred copy waits for the next probe with one SQS delay.
 */
export const CircuitSchema = z
  .object({
    /** Consecutive transport failures, timeouts and 5xx (across calls and workers) that open it. */
    failureThreshold: z.number().int().min(1).max(1_000).default(5),
    /** Those failures count within this many seconds of the first; older ones are forgotten. */
    windowSeconds: z.number().positive().max(3_600).default(60),
    /**
     * Wait from opening to the first probe, and between probes: the vendor's return is noticed
     * within this long. A 503's Retry-After stretches one wait (up to the maximum).
     */
    probeIntervalSeconds: z.number().positive().max(900).default(30),
    /** The interval never grows past this (nor past a Retry-After honoured). */
    maxProbeIntervalSeconds: z.number().positive().max(900).default(300),
    /** Past an outage this long the interval doubles after each failed probe, up to the maximum. */
    backoffAfterSeconds: z.number().positive().max(86_400).default(1_800),
    /** After the vendor is back, the share of deliveries let through grows from a quarter to all over this long. */
    slowStartSeconds: z.number().min(0).max(60).default(5),
  })
  .refine((circuit) => circuit.probeIntervalSeconds <= circuit.maxProbeIntervalSeconds, {
    message: 'probeIntervalSeconds must not exceed maxProbeIntervalSeconds',
    path: ['maxProbeIntervalSeconds'],
  });

export const VendorSettingsSchema = z.object({
  /** Human name, used in logs and metric dimensions. */
  name: z.string().min(1),
  /** Scheme and host (and optional base path) of the vendor; messages never carry a host. */
  baseUrl: z.url({ protocol: /^https?$/ }),
  /** Path prefixes a message may call with an explicit method + path. */
  allowedPaths: z
    .array(
      z
        .string()
        .startsWith('/')
        .superRefine((path, context) => {
          const kept = pathKeptAsWritten(path);
          if (kept !== true) context.addIssue({ code: 'custom', message: kept });
        }),
    )
    .default([]),
  /**
   * What every direct call (method + path) that matches no operation costs, at least: a
   * message may raise these costs, never lower or drop them. Unset, such a call is priced by
   * the message's own `dimensions`, each at least 1.
   */
  directDimensions: costs.optional(),
  operations: z.record(z.string().min(1), OperationSchema).default({}),
  /** Header carrying the idempotency key (the message id) on every call. */
  idempotencyHeader: z.string().default('Idempotency-Key'),
  /** How the API key is sent: `Authorization: Bearer <key>` by default. */
  authHeader: z.string().default('Authorization'),
  authScheme: z.string().default('Bearer'),
  /** Per-call deadline cap; the slot deadline may be shorter. */
  requestTimeoutMs: z.number().int().positive().default(20_000),
  /**
   * The largest answer body the worker reads (decoded bytes). A 2xx or 3xx over it is
   * dead-lettered as `vendor_rejected` (`response_too_large`), its body neither read to the end
   * nor kept; a 4xx/5xx over it keeps its meaning, without its body.
   */
  maxResponseBytes: z
    .number()
    .int()
    .min(1_024)
    .max(MAX_RESPONSE_BYTES_LIMIT)
    .default(DEFAULT_MAX_RESPONSE_BYTES),
  /**
   * Statuses the vendor documents as back-pressure besides 503 (backed off and requeued, never
   * dead-lettered): 409 by default, as the booking vendor's "Location too busy"; `[]` for a
   * vendor whose 409 is a real conflict.
   */
  busyStatuses: z
    .array(z.number().int().min(400).max(599))
    .refine((statuses) => !statuses.includes(429), '429 is rate limiting, not back-pressure')
    .default([409]),
  policy: PolicySchema.default(PolicySchema.parse({})),
  /** The circuit shared by every worker calling this vendor. */
  circuit: CircuitSchema.default(CircuitSchema.parse({})),
  /**
   * The most record pipelines one worker invocation runs at once (docs/deploy.md, "Sizing the
   * pool"); the worker sizes the pool below it from the vendor's rate and latency. Every call
   * still acquires first, so the buckets decide what reaches the vendor; this only bounds how
   * many records wait, sleep inline or call at the same time. The stack configuration's
   * default is at most its batchSize.
   */
  maxInFlight: z.number().int().min(1).max(1_000).default(DEFAULT_MAX_IN_FLIGHT),
  /**
   * The vendor's usual answer time, for the sizing check at synth only (calls in flight ≈
   * allowed rate × latency); the worker never reads it.
   */
  expectedLatencyMs: z.number().int().positive().optional(),
  /**
   * The `tokens` dimensions (`vendor#metric`), which take a message's token estimate and are
   * settled and resynchronised in tokens. Written by the stack from its buckets
   * (`workerEnvironment`), not by hand: the stack configuration's `vendor` has no such field.
   * Absent, the worker falls back to metric names (`…#tpm`, `…#tpd`, `…#tph`, containing `token`).
   */
  tokenDimensions: z.array(z.string()).optional(),
});

export type OperationSettings = z.infer<typeof OperationSchema>;
export type WorkerPolicy = z.infer<typeof PolicySchema>;
export type CircuitSettings = z.infer<typeof CircuitSchema>;
export type VendorSettings = z.infer<typeof VendorSettingsSchema>;
export type VendorSettingsInput = z.input<typeof VendorSettingsSchema>;

/** A problem's place as a dotted path under `prefix` (`vendor.circuit.windowSeconds`). */
export function settingsPlace(prefix: string): ProblemPlace {
  return (path) => [prefix, ...path.map(String)].filter(Boolean).join('.') || '(root)';
}

/** The vendor settings, or one `SluiceConfigError` listing every problem (`vendor.policy.maxAttempts: ...`). */
export function parseVendorSettings(input: unknown, prefix = 'vendor'): VendorSettings {
  const result = VendorSettingsSchema.safeParse(input);
  if (!result.success) {
    throw new SluiceConfigError('vendor settings', zodProblems(result.error, input, settingsPlace(prefix)));
  }
  return result.data;
}

export { dimensionName as DimensionNameSchema };
