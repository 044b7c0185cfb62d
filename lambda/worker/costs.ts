import type { WorkMessage } from '../producer/message';
import { bucketName, SluiceError } from '../sluice';
import type { VendorSettings } from '../worker-settings';

/**
 * The dimensions and costs a message acquires, priced before the first acquire. What the
 * vendor's answer says about them afterwards is vendor-call.ts's.
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
