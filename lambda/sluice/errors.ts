/**
 * Typed errors of the SDK. Running out of capacity is never one of them (that is `RetryIn`):
 * these are programming or configuration mistakes, an unavailable store, or a slot deadline.
 * Each has a `name` and a type guard that also works across bundled copies of the SDK.
 */

/** A configuration problem found at start; the message lists every bad variable at once. */
export class SluiceConfigError extends Error {
  override readonly name = 'SluiceConfigError';
  constructor(
    message: string,
    readonly problems: readonly string[] = [],
  ) {
    super(message);
  }
}

/** A caller's mistake: bad dimension, cost, factor or definition. Retrying cannot help. */
export class SluiceInputError extends Error {
  override readonly name = 'SluiceInputError';
}

/**
 * `unavailable`: no answer (network, 5xx); `throttled`: DynamoDB kept throttling; `contended`:
 * the item kept changing under other clients' writes, so every conditional write was refused.
 */
export type SluiceStoreFailure = 'unavailable' | 'throttled' | 'contended';

/** The bucket table could not be reached, kept throttling, or kept changing, after bounded retries. */
export class SluiceStoreError extends Error {
  override readonly name = 'SluiceStoreError';
  constructor(
    message: string,
    readonly reason: SluiceStoreFailure,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `slot()` could not be granted before its deadline. */
export class SlotTimeoutError extends Error {
  override readonly name = 'SlotTimeoutError';
  constructor(
    message: string,
    readonly dimensions: readonly string[],
    readonly timeoutSeconds: number,
  ) {
    super(message);
  }
}

function hasName(error: unknown, name: string): boolean {
  return error instanceof Error && error.name === name;
}

export const isSluiceConfigError = (e: unknown): e is SluiceConfigError => hasName(e, 'SluiceConfigError');
export const isSluiceInputError = (e: unknown): e is SluiceInputError => hasName(e, 'SluiceInputError');
export const isSluiceStoreError = (e: unknown): e is SluiceStoreError => hasName(e, 'SluiceStoreError');
export const isSlotTimeoutError = (e: unknown): e is SlotTimeoutError => hasName(e, 'SlotTimeoutError');
