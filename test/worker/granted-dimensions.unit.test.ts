import fc from 'fast-check';
import { grantedDimensions } from '../../lambda/worker/pipeline/vendor-call';

/**
 * One view of a grant's dimensions for settle, resync, the 429 narrowing and the repeat grant:
 * every granted dimension is exactly one of tokens, leased (`concurrent`) or a `requests` cost,
 * and the repeat grant asks again for the `requests` ones at the costs the first grant took.
 */
const dimension = fc.stringMatching(/^[a-z]{1,6}#[a-z]{1,6}$/);

const grant = fc
  .uniqueArray(
    fc.tuple(
      dimension,
      fc.integer({ min: 0, max: 10_000 }),
      fc.constantFrom('requests', 'tokens', 'concurrent'),
    ),
    {
      selector: ([name]) => name,
      maxLength: 8,
    },
  )
  .map((entries) => ({
    costs: Object.fromEntries(entries.map(([name, cost]) => [name, cost])),
    tokenDimensions: entries.filter(([, , kind]) => kind === 'tokens').map(([name]) => name),
    leases: entries
      .filter(([, , kind]) => kind === 'concurrent')
      .map(([name, cost]) => ({ dimension: name, leaseId: `lease-${name}`, cost, expiresAtMs: 0 })),
    kinds: Object.fromEntries(entries.map(([name, , kind]) => [name, kind])),
  }));

describe("a grant's dimensions, read once", () => {
  it('puts every granted dimension in exactly one kind, as the SDK granted it', () => {
    fc.assert(
      fc.property(grant, (granted) => {
        const view = grantedDimensions(granted);
        for (const [name, kind] of Object.entries(granted.kinds)) {
          const found = [
            view.isTokens(name) ? 'tokens' : undefined,
            view.leased.includes(name) ? 'concurrent' : undefined,
            name in view.requestCosts ? 'requests' : undefined,
          ].filter((each) => each !== undefined);
          expect(found).toEqual([kind]);
          if (kind === 'requests') expect(view.requestCosts[name]).toBe(granted.costs[name]);
        }
        expect(Object.keys(view.requestCosts).every((name) => name in granted.costs)).toBe(true);
      }),
    );
  });

  it('says no to a dimension the grant did not take', () => {
    const view = grantedDimensions({ costs: { 'a#rpm': 1 }, tokenDimensions: [], leases: [] });
    expect([view.isTokens('a#tpm'), view.leased, view.requestCosts]).toEqual([false, [], { 'a#rpm': 1 }]);
  });
});
