import type { WorkMessage } from '../../producer/message';
import { bucketName, SluiceError } from '../../sluice';
import type { VendorSettings } from '../../worker-settings';

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
 * Costs per dimension, from the configuration. For a configured operation: its `dimensions`,
 * `{name}` placeholders filled from `params`. A message may price only the dimensions the
 * operation lets it price (`messagePriced`, and every tokens dimension, whose cost is settled
 * to the vendor's reported usage afterwards), never below their configured minimum, and never
 * drops one: anything else is an invalid message (every problem named at once).
 *
 * A direct call that matches no operation has no configured costs: it is priced by
 * `vendor.directDimensions` when the configuration sets them (the same rule, each minimum the
 * configured cost), else by the message's own `dimensions`, each at least 1.
 */
export function messageCosts(
  settings: VendorSettings,
  message: WorkMessage,
  operation: string,
): Record<string, number> {
  const isTokens = tokenDimensionTest(settings);
  const configured = settings.operations[operation];
  const direct = settings.directDimensions;
  if (configured) {
    return pricedCosts(
      configured.dimensions,
      configured.messagePriced ?? {},
      message,
      isTokens,
      `operation "${operation}"`,
    );
  }
  if (direct !== undefined && Object.keys(direct).length > 0) {
    return pricedCosts(
      direct,
      direct,
      message,
      isTokens,
      `direct call "${operation}" (vendor.directDimensions)`,
    );
  }
  return messagePricedCosts(message, operation, isTokens);
}

/** The configured costs with what the message may change changed, or every problem at once. */
function pricedCosts(
  configured: Readonly<Record<string, number>>,
  messagePriced: Readonly<Record<string, number>>,
  message: WorkMessage,
  isTokens: TokenDimensionTest,
  what: string,
): Record<string, number> {
  const costs: Record<string, number> = {};
  const minimums: Record<string, number> = {};
  for (const [template, cost] of Object.entries(configured)) {
    const dimension = filled(template, message);
    costs[dimension] = cost;
    const minimum = messagePriced[template] ?? (isTokens(dimension) ? 1 : undefined);
    if (minimum !== undefined) minimums[dimension] = minimum;
  }
  const priceable = Object.keys(minimums);
  const problems: string[] = [];
  for (const [template, cost] of Object.entries(message.dimensions ?? {})) {
    const dimension = filled(template, message);
    const field = `dimensions.${template}`;
    const minimum = minimums[dimension];
    if (!(dimension in costs)) {
      problems.push(
        `${field}: is not a dimension of ${what} (its dimensions: ${Object.keys(costs).join(', ')})`,
      );
    } else if (minimum === undefined) {
      const allowed =
        priceable.length > 0
          ? `it lets a message price ${priceable.join(', ')}`
          : 'it lets a message price none';
      problems.push(
        `${field}: is priced by the configuration of ${what}, not by the message (${allowed}) (got ${cost})`,
      );
    } else if (cost < minimum) {
      problems.push(`${field}: must be at least ${minimum}, the minimum ${what} configures (got ${cost})`);
    } else {
      costs[dimension] = cost;
    }
  }
  if (message.tokenEstimate !== undefined) {
    for (const dimension of Object.keys(costs).filter(isTokens)) {
      const minimum = minimums[dimension] ?? 1;
      if (message.tokenEstimate < minimum) {
        problems.push(
          `tokenEstimate: must be at least ${minimum}, the minimum ${what} configures for ${dimension} (got ${message.tokenEstimate})`,
        );
      } else {
        costs[dimension] = message.tokenEstimate;
      }
    }
  }
  if (problems.length > 0) throw new MessageCostError(problems.join('; '));
  return costs;
}

/** A direct call with nothing configured: the message's own dimensions, none free. */
function messagePricedCosts(
  message: WorkMessage,
  operation: string,
  isTokens: TokenDimensionTest,
): Record<string, number> {
  const source = message.dimensions;
  if (source === undefined || Object.keys(source).length === 0) {
    throw new MessageCostError(
      `dimensions: is required: "${operation}" is no configured operation and vendor.directDimensions is not set, so the message must price it`,
    );
  }
  const problems: string[] = [];
  const costs: Record<string, number> = {};
  for (const [template, cost] of Object.entries(source)) {
    if (cost < 1)
      problems.push(`dimensions.${template}: must be at least 1: a call always costs (got ${cost})`);
    const dimension = filled(template, message);
    costs[dimension] =
      message.tokenEstimate !== undefined && isTokens(dimension) ? message.tokenEstimate : cost;
  }
  if (problems.length > 0) throw new MessageCostError(problems.join('; '));
  return costs;
}

/** A dimension template with its `{name}` placeholders filled from the message's params. */
function filled(template: string, message: WorkMessage): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
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
}
