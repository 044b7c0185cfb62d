import { penaltyTargets, resyncTargets, settlement } from '../../lambda/worker/policy/answer-writes';
import { messageCosts, tokenDimensionTest } from '../../lambda/worker/policy/costs';
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

  it('refuses a direct call that nothing prices, and a # in a dimension parameter', () => {
    expect(() => messageCosts(settings, { id: 'd', method: 'POST', path: '/x' }, 'POST /x')).toThrow(
      'dimensions: is required: "POST /x" is no configured operation and vendor.directDimensions is not set, so the message must price it',
    );
    expect(() =>
      messageCosts(settings, { id: 'e', operation: 'visit', params: { loc: 'a#b' } }, 'visit'),
    ).toThrow('parameter "loc" is "a#b": a # would change the dimension ww#writes#{loc}');
  });

  it('never lets a message drop, zero or replace a configured cost it may not price', () => {
    const visit = { id: 'f', operation: 'visit', params: { loc: 'l-7' } } as const;
    expect(() => messageCosts(settings, { ...visit, dimensions: { 'ww#rps': 0 } }, 'visit')).toThrow(
      'dimensions.ww#rps: is priced by the configuration of operation "visit", not by the message (it lets a message price none) (got 0)',
    );
    expect(() =>
      messageCosts(settings, { ...visit, dimensions: { 'ww#other': 1, 'ww#writes#{loc}': 5 } }, 'visit'),
    ).toThrow(
      'dimensions.ww#other: is not a dimension of operation "visit" (its dimensions: ww#rps, ww#writes#l-7); dimensions.ww#writes#{loc}: is priced by the configuration of operation "visit", not by the message (it lets a message price none) (got 5)',
    );
  });

  it('takes a message price where the operation allows it, never below the configured minimum', () => {
    const priced = parseVendorSettings({
      name: 'openai',
      baseUrl: 'https://vendor.example',
      operations: {
        chat: {
          method: 'POST',
          path: '/chat',
          dimensions: { 'openai#rpm': 1, 'openai#tpm': 500, 'openai#images': 2 },
          messagePriced: { 'openai#tpm': 100, 'openai#images': 1 },
        },
      },
    });
    const chat = { id: 'g', operation: 'chat' } as const;
    expect([
      messageCosts(priced, { ...chat, tokenEstimate: 900, dimensions: { 'openai#images': 4 } }, 'chat'),
      messageCosts(priced, { ...chat, dimensions: { 'openai#tpm': 100 } }, 'chat'),
    ]).toEqual([
      { 'openai#rpm': 1, 'openai#tpm': 900, 'openai#images': 4 },
      { 'openai#rpm': 1, 'openai#tpm': 100, 'openai#images': 2 },
    ]);
    expect(() =>
      messageCosts(priced, { ...chat, tokenEstimate: 99, dimensions: { 'openai#images': 0 } }, 'chat'),
    ).toThrow(
      'dimensions.openai#images: must be at least 1, the minimum operation "chat" configures (got 0); tokenEstimate: must be at least 100, the minimum operation "chat" configures for openai#tpm (got 99)',
    );
    // A tokens dimension not listed is message-priced from 1: its cost is settled to the usage afterwards.
    expect(messageCosts(settings, { ...chat, dimensions: { 'openai#tpm': 1 } }, 'chat')).toEqual({
      'openai#rpm': 1,
      'openai#tpm': 1,
    });
  });

  it('prices a direct call from vendor.directDimensions when set, else from the message, never at 0', () => {
    const direct = parseVendorSettings({
      name: 'ww',
      baseUrl: 'https://vendor.example',
      allowedPaths: ['/visits'],
      directDimensions: { 'ww#rps': 1 },
    });
    const call = { id: 'h', method: 'GET', path: '/visits/1' } as const;
    expect([
      messageCosts(direct, call, 'GET /visits'),
      messageCosts(direct, { ...call, dimensions: { 'ww#rps': 3 } }, 'GET /visits'),
      messageCosts(settings, { ...call, dimensions: { 'ww#rps': 2 } }, 'GET /visits'),
    ]).toEqual([{ 'ww#rps': 1 }, { 'ww#rps': 3 }, { 'ww#rps': 2 }]);
    expect(() => messageCosts(direct, { ...call, dimensions: { 'ww#rps': 0 } }, 'GET /visits')).toThrow(
      'dimensions.ww#rps: must be at least 1, the minimum direct call "GET /visits" (vendor.directDimensions) configures (got 0)',
    );
    expect(() => messageCosts(settings, { ...call, dimensions: { 'ww#rps': 0 } }, 'GET /visits')).toThrow(
      'dimensions.ww#rps: must be at least 1: a call always costs (got 0)',
    );
  });

  it('refuses configured paths the URL parser would not keep as written', () => {
    expect(() =>
      parseVendorSettings({
        name: 'ww',
        baseUrl: 'https://vendor.example',
        allowedPaths: ['/visits', '/visits/../admin'],
        operations: { visit: { method: 'POST', path: '/l/{loc}/v isits', dimensions: { 'ww#rps': 1 } } },
      }),
    ).toThrow(
      [
        'Invalid vendor settings (2 problems):',
        '  vendor.allowedPaths.1: must be a path the URL parser keeps as written (it reads "/visits/../admin" as "/admin"): no dot segments, control characters or backslashes; percent-encode anything else (got "/visits/../admin")',
        '  vendor.operations.visit.path: must be a path the URL parser keeps as written (it reads "/l/x/v isits" as "/l/x/v%20isits"): no dot segments, control characters or backslashes; percent-encode anything else (got "/l/{loc}/v isits")',
      ].join('\n'),
    );
  });

  it('refuses a messagePriced entry that is no dimension of the operation, or above its cost', () => {
    expect(() =>
      parseVendorSettings({
        name: 'openai',
        baseUrl: 'https://vendor.example',
        operations: {
          chat: {
            method: 'POST',
            path: '/chat',
            dimensions: { 'openai#rpm': 1, 'openai#tpm': 500 },
            messagePriced: { 'openai#rpd': 1, 'openai#tpm': 501 },
          },
        },
      }),
    ).toThrow(
      /vendor\.operations\.chat\.messagePriced\.openai#rpd: names no dimension of this operation \(its dimensions: openai#rpm, openai#tpm\)[\s\S]*vendor\.operations\.chat\.messagePriced\.openai#tpm: must not exceed the operation's own cost 500/,
    );
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

  it('leaves out a remaining count whose reset passed while the call was on its way', () => {
    const costs = { 'openai#rpm': 1, 'openai#tpm': 900 };
    const headers = {
      remainingRequests: 0,
      resetRequestsSeconds: 1,
      remainingTokens: 50,
      resetTokensSeconds: 20,
    };
    // 1.5 s answers of a 1 s window: its "0 remaining" counted a window that has ended since.
    expect(resyncTargets(costs, [], headers, byName, 1_500)).toEqual([['openai#tpm', 50]]);
    // A fast answer reads the window still running; a count without a reset is always current.
    expect(resyncTargets(costs, [], headers, byName, 50)).toEqual([
      ['openai#rpm', 0],
      ['openai#tpm', 50],
    ]);
    expect(resyncTargets(costs, [], { remainingRequests: 2 }, byName, 60_000)).toEqual([['openai#rpm', 2]]);
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
