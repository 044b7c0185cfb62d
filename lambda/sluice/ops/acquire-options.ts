import { PRODUCT_PATTERN } from '../core/shares';
import { SluiceInputError } from '../errors';

export { PRODUCT_PATTERN };

export interface AcquireOptions {
  /** Lease lifetime for concurrent dimensions (at least the slot timeout + margin). @default settings.leaseTtlSeconds */
  readonly leaseTtlSeconds?: number;
  /**
   * The product asking, e.g. `checkout`: logged as `product` on every acquire event, so logs
   * and metrics can be split by product. Take it from configuration, never from a request:
   * it is a label, and labels must stay few. @default - no label
   */
  readonly product?: string;
}

/** The `product` field of the SDK's log events, when the caller named one. */
export function productField(options: { readonly product?: string }): { product?: string } {
  if (options.product === undefined) return {};
  if (!PRODUCT_PATTERN.test(options.product)) {
    throw new SluiceInputError(
      `product must be 1-32 lowercase letters, digits or dashes, starting with a letter (got ${JSON.stringify(options.product)})`,
    );
  }
  return { product: options.product };
}
