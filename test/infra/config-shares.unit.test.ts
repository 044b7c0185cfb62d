import { SluiceConfigError } from '../../lambda/sluice';
import { parseStackConfig, policiesOf } from '../../lib/config';
import { seededBuckets } from '../../lib/product-shares';
import { validConfig } from './fixtures';

function problemsOf(input: unknown): string {
  try {
    parseStackConfig(input, 'config/x.json');
  } catch (error) {
    if (error instanceof SluiceConfigError) return error.message;
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('products with shares in the stack configuration', () => {
  it('reads a plain list of names as equal shares, and keeps the names as the products', () => {
    const config = parseStackConfig({ ...validConfig(), products: ['checkout', 'support', 'reports'] });
    expect(config.products).toEqual(['checkout', 'support', 'reports']);
    expect(config.productPolicies?.map((p) => [p.name, p.share, p.priority])).toEqual([
      ['checkout', 0.333, 'interactive'],
      ['support', 0.333, 'interactive'],
      ['reports', 0.333, 'interactive'],
    ]);
  });

  it('reads objects with a share, a priority and a longest wait, names and objects mixed', () => {
    const config = parseStackConfig({
      ...validConfig(),
      products: [
        { name: 'checkout', share: 0.75, maxWaitSeconds: 30 },
        { name: 'batch', priority: 'batch' },
        'support',
      ],
    });
    expect(config.products).toEqual(['checkout', 'batch', 'support']);
    expect(config.productPolicies).toEqual([
      { name: 'checkout', share: 0.75, priority: 'interactive', maxWaitSeconds: 30 },
      // Some product gives a share: the others reserve none and use the common rest.
      { name: 'batch', share: undefined, priority: 'batch', maxWaitSeconds: undefined },
      { name: 'support', share: undefined, priority: 'interactive', maxWaitSeconds: undefined },
    ]);
  });

  it('reports every share problem at its place in the file, with the value', () => {
    expect(
      problemsOf({
        ...validConfig(),
        products: [
          { name: 'checkout', share: 0.8 },
          { name: 'batch', share: 0.4, priority: 'later' },
          { name: 'reports', share: 0, maxWaitSeconds: -1 },
          { name: 'ads', share: 0.0005 },
          { name: 'checkout', colour: 'red' },
        ],
      }),
    ).toMatchInlineSnapshot(`
"Invalid stack configuration (6 problems):
  config/x.json: products.1: must be a product name or { name, share?, priority?, maxWaitSeconds? } (got {"name":"batch","share":0.4,"priority":"later"})
  config/x.json: products.2.share: must be a number in (0, 1], to the permille (e.g. 0.75) (got 0)
  config/x.json: products.2.maxWaitSeconds: must be a positive integer (got -1)
  config/x.json: products.3.share: must be a number in (0, 1], to the permille (e.g. 0.75) (got 0.0005)
  config/x.json: products.4.colour: is not a known field
  config/x.json: products: shares must sum to at most 1, the rest being common (got 1.201: checkout 0.8 + batch 0.4 + reports 0 + ads 0.0005)"
`);
  });

  it('refuses shares that sum past 1', () => {
    expect(
      problemsOf({
        ...validConfig(),
        products: [
          { name: 'checkout', share: 0.75 },
          { name: 'batch', share: 0.5 },
        ],
      }),
    ).toMatchInlineSnapshot(`
"Invalid stack configuration (1 problem):
  config/x.json: products: shares must sum to at most 1, the rest being common (got 1.25: checkout 0.75 + batch 0.5)"
`);
  });

  it('seeds every time bucket with the shares, and no concurrent bucket', () => {
    const config = parseStackConfig({
      ...validConfig(),
      products: [
        { name: 'checkout', share: 0.75 },
        { name: 'batch', share: 0.25 },
      ],
    });
    const seeded = seededBuckets(
      [...config.buckets, { dimension: 'acme#slots', limitType: 'concurrent', capacity: 2 }],
      policiesOf(config),
    );
    expect(seeded.map((b) => [b.limitType, b.shares])).toEqual([
      ...config.buckets.map((b) => [
        b.limitType,
        b.limitType === 'concurrent' ? undefined : { checkout: 0.75, batch: 0.25 },
      ]),
      ['concurrent', undefined],
    ]);
    expect(seeded.some((b) => b.shares !== undefined)).toBe(true);
  });
});
