import { z } from 'zod';

/**
 * The outcome event: what the worker publishes to the outcome topic once per message id when
 * the message ends, and what a product's subscriber queue receives (raw delivery, so the SQS
 * body is this JSON). Products parse it with `OutcomeEventSchema`; docs/worker.md, "Outcomes",
 * describes every field. Delivery is at least once: a product keys what it keeps by `id`.
 */

/** Raised only for a change a product's parser would reject; new optional fields keep the version. */
export const OUTCOME_SCHEMA_VERSION = 1;

/** A product name: short and lowercase, as metric dimension values and filter policies want them. */
export const PRODUCT_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
export const ProductNameSchema = z
  .string()
  .regex(PRODUCT_NAME_PATTERN, 'must be 1-32 lowercase letters, digits or dashes, starting with a letter');

/**
 * Response headers an outcome carries (lowercase), when the vendor sent them. Rate-limit
 * headers stay with the worker: they pace the shared quota, not the product.
 */
export const OUTCOME_HEADERS = [
  'content-type',
  'content-language',
  'etag',
  'last-modified',
  'location',
  'request-id',
  'x-request-id',
  'openai-model',
  'openai-processing-ms',
] as const;

/** An answer body kept in the outcome bucket because it is too large for the topic (the claim check). */
export const BodyRefSchema = z.strictObject({
  bucket: z.string().min(1),
  key: z.string().min(1),
  /** Bytes of the stored object. */
  size: z.number().int().nonnegative(),
  /** Hex SHA-256 of the stored bytes: a product checks what it reads against it. */
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** `json`: the object is the JSON text of the body; `text`: the vendor's text as it came. */
  format: z.enum(['json', 'text']),
});

const common = {
  schemaVersion: z.literal(OUTCOME_SCHEMA_VERSION),
  /** The producer's message id (or `sqs:<MessageId>` for a message without a readable one). */
  id: z.string().min(1),
  product: ProductNameSchema,
  /** The configured operation, `METHOD /prefix` for a direct call, or `(unknown)` for an unreadable message. */
  operation: z.string().min(1),
  /** Deliveries the worker made of this message (the first is 1; requeues add one each). */
  attempts: z.number().int().positive(),
  /** When the message ended, epoch ms. */
  endedAtMs: z.number().int().nonnegative(),
};

export const CompletedOutcomeSchema = z.strictObject({
  ...common,
  outcome: z.literal('completed'),
  /** The vendor's 2xx status. */
  status: z.number().int().min(100).max(599),
  /** The documented subset (`OUTCOME_HEADERS`) of the vendor's response headers. */
  headers: z.record(z.string(), z.string()),
  /** The answer: parsed JSON, or text when it was not JSON. Absent when claim-checked (`bodyRef`) or empty. */
  body: z.unknown().optional(),
  bodyRef: BodyRefSchema.optional(),
  /** The vendor call's latency, its own retries included; 0 for an answer from the read cache. */
  vendorLatencyMs: z.number().nonnegative(),
  /** Token usage settled against the estimate, per `vendor#metric` dimension, when the answer reported it. */
  tokenUsage: z.record(z.string(), z.number().int().nonnegative()).optional(),
  /** The answer came from the worker's read cache. */
  cached: z.boolean(),
});

export const DeadLetteredOutcomeSchema = z.strictObject({
  ...common,
  outcome: z.literal('dead_lettered'),
  /** One of the worker's dead-letter reasons (docs/worker.md), e.g. `invalid_message`, `vendor_unauthorized`. */
  reason: z.string().min(1),
  detail: z.string(),
});

export const OutcomeEventSchema = z.discriminatedUnion('outcome', [
  CompletedOutcomeSchema,
  DeadLetteredOutcomeSchema,
]);

export type BodyRef = z.infer<typeof BodyRefSchema>;
export type CompletedOutcome = z.infer<typeof CompletedOutcomeSchema>;
export type DeadLetteredOutcome = z.infer<typeof DeadLetteredOutcomeSchema>;
export type OutcomeEvent = z.infer<typeof OutcomeEventSchema>;

/** Parses a subscriber queue's message body; throws a ZodError or SyntaxError on anything else. */
export function parseOutcomeEvent(body: string): OutcomeEvent {
  return OutcomeEventSchema.parse(JSON.parse(body));
}

/** The outcome event as JSON Schema (draft 2020-12), for products not written in TypeScript: docs/outcome-event.schema.json. */
export function outcomeJsonSchema(): Record<string, unknown> {
  return {
    title: 'Sluice outcome event',
    ...z.toJSONSchema(OutcomeEventSchema, { target: 'draft-2020-12', unrepresentable: 'any' }),
  };
}
