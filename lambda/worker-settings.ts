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
 * and latency (lambda/worker/pool-size.ts), so this is what a slow vendor may reach by default:
 * 16 is 1.5 × the calls in flight of 7/s at 1.5 s or 3/s at 3 s, plus one waiting.
 */
export const DEFAULT_MAX_IN_FLIGHT = 16;

const dimensionName = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9_-]*#[a-z0-9][a-z0-9_-]*(#[^#\s]+)?$/i,
    'must look like vendor#metric or vendor#metric#key',
  );

/** Costs per dimension. A key placeholder `{field}` in a dimension is filled from the message's `keys`. */
const costs = z.record(z.string().min(3), z.number().int().nonnegative());

export const OperationSchema = z.object({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']),
  /** Path relative to `baseUrl`; `{name}` placeholders are filled from the message's `params`. */
  path: z.string().startsWith('/'),
  /** Dimensions and costs this operation takes by default; `{tokens}` cost comes from the message's token estimate. */
  dimensions: costs.refine((value) => Object.keys(value).length > 0, 'needs at least one dimension'),
  /** Safe to repeat after an unknown outcome (GET, or the vendor honours the idempotency key). */
  idempotent: z.boolean().optional(),
  /** Cache successful answers for this many seconds (idempotent reads only). 0 = off. */
  cacheSeconds: z.number().nonnegative().default(0),
});

export const PolicySchema = z.object({
  /** Waits up to this long are slept inline; longer ones requeue. */
  inlineRetryThresholdSeconds: z.number().positive().default(5),
  /** Requeue attempts before the message is dead-lettered. */
  maxAttempts: z.number().int().positive().default(20),
  /** End-to-end age (from first enqueue) before the message is dead-lettered. */
  maxAgeSeconds: z.number().int().positive().default(86_400),
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
    /** Wait from opening to the first probe; doubled after each failed probe. */
    probeIntervalSeconds: z.number().positive().max(900).default(30),
    /** The interval never grows past this. */
    maxProbeIntervalSeconds: z.number().positive().max(900).default(300),
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
  allowedPaths: z.array(z.string().startsWith('/')).default([]),
  operations: z.record(z.string().min(1), OperationSchema).default({}),
  /** Header carrying the idempotency key (the message id) on every call. */
  idempotencyHeader: z.string().default('Idempotency-Key'),
  /** How the API key is sent: `Authorization: Bearer <key>` by default. */
  authHeader: z.string().default('Authorization'),
  authScheme: z.string().default('Bearer'),
  /** Per-call deadline cap; the slot deadline may be shorter. */
  requestTimeoutMs: z.number().int().positive().default(20_000),
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
