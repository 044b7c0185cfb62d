/** Exact integer `a · b / c`, rounded down or up, for the bucket and rate-scale maths. */

/**
 * `floor(a · b / c)` for integers a, b ≥ 0 and c > 0, exactly. While `a · b ≤ 2^53 − 1` the
 * product is exact in a double and the quotient is correctly rounded: its error is at most
 * `a·b / (c · 2^53) < 1/c`, while a non-integer `a·b/c` lies at least `1/c` from any integer,
 * so `floor` and `ceil` cannot cross or land on one. Larger products (e.g. a daily window of
 * a billion tokens: 10^12 milli × 8.64·10^7 ms) go through BigInt; a non-integer input (a
 * fractional clock) is computed in doubles, as exactly as it can be.
 */
export function mulDivFloor(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER || !Number.isInteger(a) || !Number.isInteger(b)) {
    return Math.floor(product / c);
  }
  return Number((BigInt(a) * BigInt(b)) / BigInt(c));
}

/** `ceil(a · b / c)`, exactly, on the terms of `mulDivFloor`. */
export function mulDivCeil(a: number, b: number, c: number): number {
  const product = a * b;
  if (product <= Number.MAX_SAFE_INTEGER || !Number.isInteger(a) || !Number.isInteger(b)) {
    return Math.ceil(product / c);
  }
  const bc = BigInt(c);
  return Number((BigInt(a) * BigInt(b) + bc - 1n) / bc);
}
