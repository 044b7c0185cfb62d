import { z } from 'zod';
import type { SluiceSettings } from './core/settings';
import { SluiceConfigError, zodProblems } from './errors';

/** Environment variables read by the SDK (same names as the documented Sluice, plus two). */
export const SluiceEnv = {
  tableName: 'SLUICE_TABLE_NAME',
  region: 'SLUICE_AWS_REGION',
  endpointUrl: 'SLUICE_ENDPOINT_URL',
  leaseTtl: 'SLUICE_LEASE_TTL',
  maxRetries: 'SLUICE_MAX_RETRIES',
  defaultSlotTimeout: 'SLUICE_DEFAULT_SLOT_TIMEOUT',
  inlineRetryThreshold: 'SLUICE_INLINE_RETRY_THRESHOLD',
  logLevel: 'SLUICE_LOG_LEVEL',
} as const;

/** A number from the environment (a string) or an override (a number), checked by `rule`. */
function numberField(rule: string, ok: (n: number) => boolean) {
  return z.unknown().transform((value, ctx) => {
    const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
    if (typeof n === 'number' && ok(n)) return n;
    ctx.addIssue({ code: 'custom', message: rule });
    return z.NEVER;
  });
}

const positiveSeconds = () =>
  numberField('must be a positive number of seconds', (n) => Number.isFinite(n) && n > 0);

// Every field is checked; problems are collected, never the first one alone.
const schema = z.object({
  tableName: z.string().min(1, 'is required'),
  region: z.string().min(1).optional(),
  endpointUrl: z.url('must be a URL').optional(),
  leaseTtlSeconds: positiveSeconds().default(60),
  maxRetries: numberField('must be a whole number >= 0', (n) => Number.isInteger(n) && n >= 0).default(3),
  defaultSlotTimeoutSeconds: positiveSeconds().default(30),
  inlineRetryThresholdSeconds: numberField(
    'must be a number of seconds >= 0',
    (n) => Number.isFinite(n) && n >= 0,
  ).default(5),
  logLevel: z
    .string()
    .transform((s) => s.toUpperCase())
    .pipe(z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR'], 'must be one of DEBUG, INFO, WARN, ERROR'))
    .default('INFO'),
});

type Field = keyof SluiceSettings;
const variableOf: Record<Field, string> = {
  tableName: SluiceEnv.tableName,
  region: SluiceEnv.region,
  endpointUrl: SluiceEnv.endpointUrl,
  leaseTtlSeconds: SluiceEnv.leaseTtl,
  maxRetries: SluiceEnv.maxRetries,
  defaultSlotTimeoutSeconds: SluiceEnv.defaultSlotTimeout,
  inlineRetryThresholdSeconds: SluiceEnv.inlineRetryThreshold,
  logLevel: SluiceEnv.logLevel,
};

function fromEnv(
  overrides: Partial<SluiceSettings> = {},
  env: NodeJS.ProcessEnv = process.env,
): SluiceSettings {
  const raw: Record<string, unknown> = {};
  for (const [field, variable] of Object.entries(variableOf)) {
    const value = env[variable];
    // An empty variable counts as unset, as CloudFormation often leaves them.
    if (value !== undefined && value !== '') raw[field] = value;
  }
  const input = { ...raw, ...withoutUndefined(overrides) };
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  // Each problem names the override when one was given, else the environment variable.
  const place = (path: readonly PropertyKey[]) => {
    const field = String(path[0]) as Field;
    return field in overrides && overrides[field] !== undefined ? field : variableOf[field];
  };
  const problems = zodProblems(parsed.error, input, place);
  throw new SluiceConfigError('Sluice configuration', problems);
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export const SluiceConfig = { fromEnv } as const;
