/**
 * The one family of errors Sluice throws. Every class extends `SluiceError`, names itself, and
 * keeps the `cause` it was given. Running out of capacity is never an error (that is `RetryIn`):
 * these are programming or configuration mistakes, an unavailable store, or a slot deadline.
 */
import type { z } from 'zod';

/** The root of every error Sluice throws; `cause` keeps the error it wraps, if any. */
export class SluiceError extends Error {
  override readonly name: string = 'SluiceError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * The one configuration error: every problem found in one reading (environment variables, a
 * configuration file, CLI flags, derived settings), each as one line, all in one message.
 */
export class SluiceConfigError extends SluiceError {
  override readonly name: string = 'SluiceConfigError';
  constructor(
    /** What was being read, e.g. `Sluice configuration` or `stack configuration`. */
    readonly subject: string,
    /** Every problem, one line each: `where: rule (got value)`. */
    readonly problems: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(formatConfigProblems(subject, problems), options);
  }
}

/** `Invalid <subject> (N problems):` then one indented line per problem. */
export function formatConfigProblems(subject: string, problems: readonly string[]): string {
  if (problems.length === 0) return `Invalid ${subject}`;
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return `Invalid ${subject} (${count}):\n  ${problems.join('\n  ')}`;
}

/** How a problem names its place: a path in a file, or the environment variable behind a field. */
export type ProblemPlace = (path: readonly PropertyKey[]) => string;

/** The dotted path, or `(root)`; `source` in front when given (`config.json: buckets.0.capacity`). */
export function pathPlace(source?: string): ProblemPlace {
  return (path) => {
    const dotted = path.map(String).join('.') || '(root)';
    return source ? `${source}: ${dotted}` : dotted;
  };
}

/**
 * The one formatter of validation issues: `place: rule (got value)`, an unknown key as
 * `place: is not a known field`, a missing value as `place: is required`.
 */
export function zodProblems(error: z.ZodError, input: unknown, place: ProblemPlace = pathPlace()): string[] {
  return error.issues.flatMap((issue): string[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => `${place([...issue.path, key])}: is not a known field`);
    }
    const value = valueAt(input, issue.path);
    if (issue.code === 'invalid_type' && value === undefined) return [`${place(issue.path)}: is required`];
    const omitValue = value === undefined || (issue.code === 'custom' && issue.params?.omitValue === true);
    return [`${place(issue.path)}: ${issue.message}${omitValue ? '' : ` (got ${describeValue(value)})`}`];
  });
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** A value as JSON, cut at 60 characters. */
export function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** A caller's mistake: bad dimension, cost, factor or definition. Retrying cannot help. */
export class SluiceInputError extends SluiceError {
  override readonly name: string = 'SluiceInputError';
}

/**
 * `unavailable`: no answer (network, 5xx); `throttled`: DynamoDB kept throttling; `contended`:
 * the item kept changing under other clients' writes, so every conditional write was refused.
 */
export type SluiceStoreFailure = 'unavailable' | 'throttled' | 'contended';

/** The bucket table could not be reached, kept throttling, or kept changing, after bounded retries. */
export class SluiceStoreError extends SluiceError {
  override readonly name: string = 'SluiceStoreError';
  constructor(
    message: string,
    readonly reason: SluiceStoreFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `slot()` could not be granted before its deadline. */
export class SlotTimeoutError extends SluiceError {
  override readonly name: string = 'SlotTimeoutError';
  constructor(
    message: string,
    readonly dimensions: readonly string[],
    readonly timeoutSeconds: number,
  ) {
    super(message);
  }
}

/** Type guards for callers that prefer them to `instanceof` (they are the same test). */
export const isSluiceError = (e: unknown): e is SluiceError => e instanceof SluiceError;
export const isSluiceConfigError = (e: unknown): e is SluiceConfigError => e instanceof SluiceConfigError;
export const isSluiceInputError = (e: unknown): e is SluiceInputError => e instanceof SluiceInputError;
export const isSluiceStoreError = (e: unknown): e is SluiceStoreError => e instanceof SluiceStoreError;
export const isSlotTimeoutError = (e: unknown): e is SlotTimeoutError => e instanceof SlotTimeoutError;
