/** What the configuration says about the products a message may name, and who may send them. */
export interface ProductRules {
  /** The configured products (the stack configuration's `products`). */
  readonly products: readonly string[];
  /** `products` as a set. */
  readonly productSet: ReadonlySet<string>;
  /** Who may send a first delivery naming each product; absent: anyone. */
  readonly productSenders?: Readonly<Record<string, readonly string[]>>;
  /**
   * The principal that sent a first delivery (SQS `SenderId`); undefined for the worker's own
   * copies, which were checked when they first arrived.
   */
  readonly sender: string | undefined;
}

/**
 * Why a message may not name `product`, or undefined when it may. A product must be one of the
 * configured ones, and with products configured a message must name one. With `productSenders`
 * configured, a first delivery must come from a principal allowed for the product it names: a
 * product cannot claim another's name, its buckets' label and its outcomes.
 */
export function productProblem(product: string | undefined, rules: ProductRules): string | undefined {
  const { products } = rules;
  const known = products.length > 0 ? products.join(', ') : 'none are configured';
  if (product === undefined) {
    return products.length > 0 ? `product: is required (known: ${known})` : undefined;
  }
  if (!rules.productSet.has(product)) {
    return `product: "${product}" is not a configured product (known: ${known})`;
  }
  if (!rules.productSenders || rules.sender === undefined) return undefined;
  const allowed = rules.productSenders[product] ?? [];
  if (allowed.includes(rules.sender)) return undefined;
  return `product: "${product}" may not be sent by ${rules.sender} (allowed: ${allowed.join(', ') || 'none'})`;
}
