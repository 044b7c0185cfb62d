import { messageCosts, tokenDimensionTest } from '../../lambda/worker/costs';
import { penaltyTargets, resyncTargets, settlement } from '../../lambda/worker/vendor-call';
import { parseVendorSettings } from '../../lambda/worker-settings';

const settings = parseVendorSettings({
  name: 'mixed',
  baseUrl: 'https://vendor.example',
  operations: {
    chat: { method: 'POST', path: '/chat', dimensions: { 'openai#rpm': 1, 'openai#tpm': 500 } },
    visit: { method: 'POST', path: '/l/{loc}/v', dimensions: { 'ww#rps': 1, 'ww#writes#{loc}': 1 } },
  },
});
/** The same settings without the stack's list: token dimensions by metric name. */
const byName = tokenDimensionTest(settings);

describe('the costs of a message', () => {
  it('fills placeholders from params and puts the token estimate on token dimensions only', () => {
    expect(messageCosts(settings, { id: 'a', operation: 'chat', tokenEstimate: 900 }, 'chat')).toEqual({
      'openai#rpm': 1,
      'openai#tpm': 900,
    });
    expect(messageCosts(settings, { id: 'b', operation: 'visit', params: { loc: 'l-7' } }, 'visit')).toEqual({
      'ww#rps': 1,
      'ww#writes#l-7': 1,
    });
  });

  it('lets the message replace the defaults, and refuses what it cannot price', () => {
    expect(
      messageCosts(settings, { id: 'c', operation: 'chat', dimensions: { 'openai#rpm': 2 } }, 'chat'),
    ).toEqual({
      'openai#rpm': 2,
    });
    expect(() => messageCosts(settings, { id: 'd', method: 'POST', path: '/x' }, 'POST /x')).toThrow(
      'no dimensions for "POST /x": it is not a configured operation, so the message must give dimensions',
    );
    expect(() =>
      messageCosts(settings, { id: 'e', operation: 'visit', params: { loc: 'a#b' } }, 'visit'),
    ).toThrow('parameter "loc" is "a#b": a # would change the dimension ww#writes#{loc}');
  });

  it('settles the token dimensions at usage.total_tokens and resyncs from the vendor headers', () => {
    const costs = { 'openai#rpm': 1, 'openai#tpm': 900 };
    expect(settlement(costs, { usage: { total_tokens: 412 } }, byName)).toEqual({ 'openai#tpm': 412 });
    expect(settlement(costs, { usage: { total_tokens: -1 } }, byName)).toBeUndefined();
    // An exact estimate leaves nothing to settle: no write.
    expect(settlement(costs, { usage: { total_tokens: 900 } }, byName)).toBeUndefined();
    expect(resyncTargets(costs, [], { remainingRequests: 7, remainingTokens: 1200 }, byName)).toEqual([
      ['openai#rpm', 7],
      ['openai#tpm', 1200],
    ]);
    expect(
      resyncTargets(
        { 'ww#rps': 1, 'ww#writes#l-7': 1, 'sp#concurrent': 1 },
        ['sp#concurrent'],
        { remainingRequests: 3 },
        byName,
      ),
    ).toEqual([['ww#rps', 3]]);
  });

  it('penalizes the kind of limit the 429 names, else every time dimension', () => {
    const costs = { 'openai#rpm': 1, 'openai#tpm': 900, 'openai#concurrent': 1 };
    const leased = ['openai#concurrent'];
    expect(penaltyTargets(costs, leased, { remainingRequests: 0, remainingTokens: 5000 }, byName)).toEqual([
      'openai#rpm',
    ]);
    expect(penaltyTargets(costs, leased, { remainingRequests: 4, remainingTokens: 0 }, byName)).toEqual([
      'openai#tpm',
    ]);
    expect(penaltyTargets(costs, leased, {}, byName)).toEqual(['openai#rpm', 'openai#tpm']);
  });

  it('takes the tokens dimensions from the list the stack writes, whatever their names', () => {
    // Anthropic's input and output token limits, and a keyed one: no name says "tokens".
    const listed = parseVendorSettings({
      name: 'anthropic',
      baseUrl: 'https://vendor.example',
      operations: {
        messages: {
          method: 'POST',
          path: '/v1/messages',
          dimensions: { 'anthropic#rpm': 1, 'anthropic#itpm': 1, 'anthropic#per-org#{org}': 1 },
        },
      },
      tokenDimensions: ['anthropic#itpm', 'anthropic#per-org'],
    });
    const message = { id: 'f', operation: 'messages', tokenEstimate: 700, params: { org: 'o-1' } };
    const costs = messageCosts(listed, message, 'messages');
    expect(costs).toEqual({ 'anthropic#rpm': 1, 'anthropic#itpm': 700, 'anthropic#per-org#o-1': 700 });
    const isTokens = tokenDimensionTest(listed);
    expect(settlement(costs, { usage: { total_tokens: 512 } }, isTokens)).toEqual({
      'anthropic#itpm': 512,
      'anthropic#per-org#o-1': 512,
    });
    expect(penaltyTargets(costs, [], { remainingRequests: 3, remainingTokens: 0 }, isTokens)).toEqual([
      'anthropic#itpm',
      'anthropic#per-org#o-1',
    ]);
    // A listed set is the whole truth: a requests bucket named "...tpm" is not tokens.
    const only = tokenDimensionTest({ tokenDimensions: ['acme#tokens'] });
    expect(['acme#tpm', 'acme#tokens', 'acme#tokens#k-9'].map(only)).toEqual([false, true, true]);
    expect(['acme#tpm', 'acme#tokens', 'acme#rpm'].map(byName)).toEqual([true, true, false]);
  });
});
