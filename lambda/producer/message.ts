import { z } from 'zod';
import { zodProblems } from '../sluice/errors';
import { ProductNameSchema } from './outcome';

/**
 * The producer contract: what a message on the worker's queue must look like. Strict on
 * purpose: an unknown field is more likely a typo (`tokens` for `tokenEstimate`) than an
 * extension, and a typo silently ignored would cost quota. An invalid message goes to the DLQ
 * at once with the reason; it is never retried and never dropped.
 */

/** SQS batch entry ids allow fewer characters; the message id is an idempotency key, so keep it printable. */
export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;
export const MAX_MESSAGE_ID_LENGTH = 128;

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/**
 * A path relative to the vendor's configured base URL. The host comes from configuration
 * only: a message that could name its own host could send the API key anywhere.
 */
const relativePath = z
  .string()
  .startsWith('/', 'must start with / (relative to the vendor base URL)')
  .refine((path) => !path.startsWith('//'), 'must not start with // (a host is never taken from a message)')
  .refine((path) => !/^[a-z][a-z0-9+.-]*:/i.test(path) && !path.includes('://'), 'must not be a full URL')
  .refine((path) => !path.split(/[/?#]/).includes('..'), 'must not contain .. segments');

export const WorkMessageSchema = z
  .strictObject({
    /** The idempotency key: a message with an id that already completed is acknowledged without a call. */
    id: z
      .string()
      .min(1, 'must not be empty')
      .max(MAX_MESSAGE_ID_LENGTH, `must be at most ${MAX_MESSAGE_ID_LENGTH} characters`)
      .regex(MESSAGE_ID_PATTERN, 'may contain only letters, digits and _ . : -'),
    /**
     * The product that sent the message, from the stack configuration's `products`: its final
     * outcome is published for that product's subscription. The worker dead-letters a message
     * whose product is not in the list, and one without a product when the list is not empty.
     */
    product: ProductNameSchema.optional(),
    /** A named operation of the vendor settings (method, path and default dimensions). */
    operation: z.string().min(1, 'must not be empty').optional(),
    method: z.enum(HTTP_METHODS).optional(),
    path: relativePath.optional(),
    /** Fills `{name}` placeholders of the operation's path and dimensions. */
    params: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    /**
     * Costs the message gives: only for dimensions its operation lets a message price
     * (`messagePriced`, tokens dimensions), never below their minimum; for a direct call, its
     * costs (at least 1 each) when the configuration sets no `directDimensions`.
     */
    dimensions: z
      .record(z.string().min(3, 'dimension names are vendor#metric'), z.number().int().nonnegative())
      .optional(),
    /** Expected tokens; the cost of the `tokens` dimensions (settled to the actual usage afterwards). */
    tokenEstimate: z.number().int().positive().optional(),
  })
  .superRefine((message, context) => {
    const named = message.operation !== undefined;
    const direct = message.method !== undefined || message.path !== undefined;
    // About the message as a whole: its reason does not quote the whole message back.
    const whole = { code: 'custom', params: { omitValue: true } } as const;
    if (named && direct) {
      context.addIssue({ ...whole, message: 'give either operation or method + path, not both' });
    } else if (!named && !direct) {
      context.addIssue({ ...whole, message: 'needs operation, or method + path' });
    } else if (direct && (message.method === undefined || message.path === undefined)) {
      const missing = message.method === undefined ? 'method' : 'path';
      context.addIssue({
        code: 'custom',
        path: [missing],
        message: `is required with ${missing === 'method' ? 'path' : 'method'}`,
      });
    }
  });

export type WorkMessage = z.infer<typeof WorkMessageSchema>;

export type ParsedMessage =
  | { readonly ok: true; readonly message: WorkMessage }
  | { readonly ok: false; readonly reason: string };

/** A problem's place: the field's dotted path, or `(message)` for the message as a whole. */
const messagePlace = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(message)';

/**
 * Every problem in the project's one format (`field: rule (got value)`), joined with `; `, so
 * one DLQ attribute says it all.
 */
export function describeIssues(error: z.ZodError, value: unknown): string {
  return zodProblems(error, value, messagePlace).join('; ');
}

/** Validates an already-decoded value (the producer helper's input). */
export function validateMessage(value: unknown): ParsedMessage {
  const result = WorkMessageSchema.safeParse(value);
  if (result.success) return { ok: true, message: result.data };
  return { ok: false, reason: describeIssues(result.error, value) };
}

/** Decodes and validates an SQS message body. Expected failures are values, not exceptions. */
export function parseMessage(raw: string): ParsedMessage {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    return { ok: false, reason: `(message): body is not JSON (${(error as Error).message})` };
  }
  return validateMessage(value);
}
