import { SluiceInputError } from '../errors';

/**
 * The limit types, defined once: the TypeScript type, the SDK's checks and the stack's
 * configuration schema all follow from `LIMIT_TYPES`, and what each type does is decided in one
 * exhaustive `switch`, so a type added here cannot quietly behave like another.
 */
export const LIMIT_TYPES = ['requests', 'tokens', 'concurrent'] as const;

export type LimitType = (typeof LIMIT_TYPES)[number];

export interface LimitTypeTraits {
  /** Refills over a window (a time bucket); else holds leases that release returns. */
  readonly refills: boolean;
  /** Counts tokens: costs may be fractional estimates, settled afterwards with the actual usage. */
  readonly countsTokens: boolean;
}

export function limitTypeTraits(limitType: LimitType): LimitTypeTraits {
  switch (limitType) {
    case 'requests':
      return { refills: true, countsTokens: false };
    case 'tokens':
      return { refills: true, countsTokens: true };
    case 'concurrent':
      return { refills: false, countsTokens: false };
    default:
      return unknownLimitType(limitType);
  }
}

function unknownLimitType(limitType: never): never {
  throw new SluiceInputError(
    `unknown limit type ${JSON.stringify(limitType)} (known: ${LIMIT_TYPES.join(', ')})`,
  );
}

export function isLimitType(value: unknown): value is LimitType {
  return typeof value === 'string' && (LIMIT_TYPES as readonly string[]).includes(value);
}

/** A concurrent bucket: no refill, capacity held by leases. */
export const holdsLeases = (limitType: LimitType): boolean => !limitTypeTraits(limitType).refills;

/** A tokens bucket: what the worker settles with the vendor's reported usage. */
export const countsTokens = (limitType: LimitType): boolean => limitTypeTraits(limitType).countsTokens;
