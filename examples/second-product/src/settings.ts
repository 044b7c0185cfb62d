import { ProductNameSchema } from 'sluice-aws/producer';
import { z } from 'zod';

/**
 * The example's own environment, read once per Lambda environment and checked in one go: every
 * problem in one message. The SDK's SLUICE_* variables are read by `SluiceConfig.fromEnv`.
 */
/**
 * One product name for the three Lambdas, checked as the message contract and the outcome
 * subscription's filter take it; the SDK's acquire label (`PRODUCT_PATTERN`) follows the same
 * rule, so the label and the routing can never disagree.
 */
const product = ProductNameSchema;

const schemas = {
  sync: z.object({
    SLUICE_PRODUCT: product,
    VENDOR_BASE_URL: z.url('must be a URL'),
    VENDOR_SECRET_ARN: z.string().min(1, 'is required'),
  }),
  enqueue: z.object({
    // Not checked as a URL: SQS takes it as a parameter, and local servers hand out hosts such
    // as sqs.us-east-1.127.0.0.1 that a URL parser refuses.
    WORK_QUEUE_URL: z.string().min(1, 'is required'),
    // The product every message carries: the worker routes its outcome by it.
    SLUICE_PRODUCT: product,
  }),
  outcomes: z.object({
    SLUICE_PRODUCT: product,
  }),
};

export type SyncCallSettings = z.infer<typeof schemas.sync>;
export type EnqueueSettings = z.infer<typeof schemas.enqueue>;
export type OutcomeSettings = z.infer<typeof schemas.outcomes>;

function read<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv): T {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid second-product configuration: ${problems.join('; ')}`);
}

export const readSyncCallSettings = (env: NodeJS.ProcessEnv = process.env) => read(schemas.sync, env);
export const readEnqueueSettings = (env: NodeJS.ProcessEnv = process.env) => read(schemas.enqueue, env);
export const readOutcomeSettings = (env: NodeJS.ProcessEnv = process.env) => read(schemas.outcomes, env);
