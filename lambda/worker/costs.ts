import type { WorkMessage } from '../producer/message';
import { bucketName, type Granted, SluiceError } from '../sluice';
import type { RateLimitHeaders } from '../vendor-api/headers';
import type { VendorSettings } from '../worker-settings';

/**
 * The dimensions and costs a message acquires, and what the vendor's answer says about them
 * afterwards (actual token usage, the vendor's own count of what is left).
 */

/** The message asks for something the configuration cannot price: dead-letter it as invalid. */
export class MessageCostError extends SluiceError {
  override readonly name: string = 'MessageCostError';
}

/** Whether a dimension is a `tokens` bucket. */
export type TokenDimensionTest = (dimension: string) => boolean;

/**
 * Before an acquire, the dimensions a message's token estimate prices: those the stack listed
 * from its buckets by the SDK's `countsTokens`
 * (`tokenDimensions`, matched on `vendor#metric`, so a key or a `{placeholder}` after it does not
 * matter), or, when the settings carry no list (written by hand), by metric name: `…#tpm`,
 * `…#tpd`, `…#tph`, or containing "token". After a grant the worker no longer guesses: the
 * grant's `tokenDimensions` say which buckets count tokens (settle, resync and 429 narrowing).
 */
export function tokenDimensionTest(settings: Pick<VendorSettings, 'tokenDimensions'>): TokenDimensionTest {
  const listed = settings.tokenDimensions;
  if (listed === undefined) {
    return (dimension) => {
      const metric = dimension.split('#')[1] ?? '';
      return /^t(pm|pd|ph)$/i.test(metric) || /token/i.test(metric);
    };
  }
  const buckets = new Set(listed.map(bucketName));
  return (dimension) => buckets.has(bucketName(dimension));
}

/**
 * Costs per dimension: the message's own `dimensions` when given, else the operation's
 * defaults; `{name}` placeholders in dimension names filled from `params`; the token estimate
 * as the cost of every tokens dimension.
 */
export function messageCosts(
  settings: VendorSettings,
  message: WorkMessage,
  operation: string,
): Record<string, number> {
  const defaults = settings.operations[operation]?.dimensions;
  const source = message.dimensions ?? defaults;
  if (source === undefined || Object.keys(source).length === 0) {
    throw new MessageCostError(
      `no dimensions for "${operation}": it is not a configured operation, so the message must give dimensions`,
    );
  }
  const isTokens = tokenDimensionTest(settings);
  const costs: Record<string, number> = {};
  for (const [template, cost] of Object.entries(source)) {
    const dimension = template.replace(/\{([^}]+)\}/g, (_, name: string) => {
      const value = message.params?.[name];
      if (value === undefined || value === '') {
        throw new MessageCostError(`dimension ${template} needs parameter "${name}" in params`);
      }
      if (value.includes('#')) {
        throw new MessageCostError(
          `parameter "${name}" is "${value}": a # would change the dimension ${template}`,
        );
      }
      return value;
    });
    costs[dimension] =
      message.tokenEstimate !== undefined && isTokens(dimension) ? message.tokenEstimate : cost;
  }
  return costs;
}

/**
 * What a grant's dimensions are, read once per grant from the SDK's answer (the buckets it took
 * from, not the worker's guess): which count tokens, which hold a lease (`concurrent`), and the
 * `requests` costs left over (neither), which a repeat of the call acquires again. Settle,
 * resync, the 429 narrowing and the repeat grant all ask this one view.
 */
export interface GrantedDimensions {
  readonly isTokens: TokenDimensionTest;
  /** The dimensions held as leases (`concurrent`): never penalized or resynchronised. */
  readonly leased: readonly string[];
  /** The `requests` dimensions of the grant at the costs it took: neither tokens nor leased. */
  readonly requestCosts: Readonly<Record<string, number>>;
}

export function grantedDimensions(
  grant: Pick<Granted, 'costs' | 'tokenDimensions' | 'leases'>,
): GrantedDimensions {
  const tokens = new Set(grant.tokenDimensions);
  const leased = grant.leases.map((lease) => lease.dimension);
  const isTokens: TokenDimensionTest = (dimension) => tokens.has(dimension);
  const requestCosts = Object.fromEntries(
    Object.entries(grant.costs).filter(([dimension]) => !isTokens(dimension) && !leased.includes(dimension)),
  );
  return { isTokens, leased, requestCosts };
}

/** `usage.total_tokens` of an OpenAI-style body, when it is a non-negative integer. */
export function actualTokens(body: unknown): number | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const usage = (body as { usage?: unknown }).usage;
  if (typeof usage !== 'object' || usage === null) return undefined;
  const total = (usage as { total_tokens?: unknown }).total_tokens;
  return typeof total === 'number' && Number.isInteger(total) && total >= 0 ? total : undefined;
}

/** Actual usage to settle: the token dimensions that were granted, at the reported total; none when the estimate was exact. */
export function settlement(
  costs: Readonly<Record<string, number>>,
  body: unknown,
  isTokens: TokenDimensionTest,
): Record<string, number> | undefined {
  const total = actualTokens(body);
  if (total === undefined) return undefined;
  const tokenDimensions = Object.keys(costs).filter(isTokens);
  // Nothing to settle when the estimate was exact: a write would change nothing, and with many
  // calls in flight it would only contend for the vendor's item.
  if (tokenDimensions.every((dimension) => costs[dimension] === total)) return undefined;
  return Object.fromEntries(tokenDimensions.map((dimension) => [dimension, total]));
}

/**
 * The vendor's remaining counts, per dimension: remaining tokens for token dimensions,
 * remaining requests for the unkeyed time dimensions (a keyed one, like a per-location limit,
 * is not what the vendor's global header counts). Concurrent dimensions (leased) never.
 */
export function resyncTargets(
  costs: Readonly<Record<string, number>>,
  leasedDimensions: readonly string[],
  rateLimit: RateLimitHeaders,
  isTokens: TokenDimensionTest,
): [dimension: string, remaining: number][] {
  const targets: [string, number][] = [];
  for (const dimension of Object.keys(costs)) {
    if (leasedDimensions.includes(dimension)) continue;
    if (isTokens(dimension)) {
      if (rateLimit.remainingTokens !== undefined) targets.push([dimension, rateLimit.remainingTokens]);
    } else if (dimension.split('#').length === 2 && rateLimit.remainingRequests !== undefined) {
      targets.push([dimension, rateLimit.remainingRequests]);
    }
  }
  return targets;
}

/**
 * The dimensions a 429 penalizes: the time dimensions of the call (a concurrent one has no
 * rate to lower), narrowed to the kind the vendor says is exhausted when its headers say so
 * (x-ratelimit-remaining-requests 0 with tokens left: the request limit refused, not the tokens).
 */
export function penaltyTargets(
  costs: Readonly<Record<string, number>>,
  leasedDimensions: readonly string[],
  rateLimit: RateLimitHeaders,
  isTokens: TokenDimensionTest,
): string[] {
  const timed = Object.keys(costs).filter((dimension) => !leasedDimensions.includes(dimension));
  const requestsOut = rateLimit.remainingRequests === 0;
  const tokensOut = rateLimit.remainingTokens === 0;
  if (requestsOut && !tokensOut) return narrowOrAll(timed, (dimension) => !isTokens(dimension));
  if (tokensOut && !requestsOut) return narrowOrAll(timed, isTokens);
  return timed;
}

function narrowOrAll(dimensions: string[], keep: (dimension: string) => boolean): string[] {
  const narrowed = dimensions.filter(keep);
  return narrowed.length > 0 ? narrowed : dimensions;
}
