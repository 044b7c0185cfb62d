import { parseResetDuration, parseRetryAfter, readRateLimitHeaders } from '../../lambda/vendor-api';

const NOW_MS = Date.parse('2026-11-23T10:00:00Z');

describe('parseRetryAfter', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('7', NOW_MS, 900)).toBe(7);
    expect(parseRetryAfter(' 0 ', NOW_MS, 900)).toBe(0);
    expect(parseRetryAfter('1.5', NOW_MS, 900)).toBe(1.5);
  });

  it('reads an HTTP date as the seconds until it', () => {
    expect(parseRetryAfter('Mon, 23 Nov 2026 10:00:30 GMT', NOW_MS, 900)).toBe(30);
  });

  it('reads a date in the past as no wait, never a negative one', () => {
    expect(parseRetryAfter('Mon, 23 Nov 2026 09:59:00 GMT', NOW_MS, 900)).toBe(0);
  });

  it('bounds a long wait by maxSeconds', () => {
    expect(parseRetryAfter('86400', NOW_MS, 900)).toBe(900);
    expect(parseRetryAfter('Tue, 24 Nov 2026 10:00:00 GMT', NOW_MS, 900)).toBe(900);
  });

  it('ignores an absent or unreadable value rather than guessing', () => {
    expect(
      [undefined, null, '', 'soon', '-5', '12abc', '2026-11-23'].map((v) => parseRetryAfter(v, NOW_MS, 900)),
    ).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined]);
  });
});

describe('readRateLimitHeaders', () => {
  it('reads every OpenAI x-ratelimit header, resets as Go durations', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '499',
      'x-ratelimit-reset-requests': '120ms',
      'x-ratelimit-limit-tokens': '40000',
      'x-ratelimit-remaining-tokens': '38000',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({
      limitRequests: 500,
      limitRequestsWindowSeconds: 60,
      remainingRequests: 499,
      resetRequestsSeconds: 0.12,
      limitTokens: 40_000,
      limitTokensWindowSeconds: 60,
      remainingTokens: 38_000,
      resetTokensSeconds: 360,
    });
  });

  it('leaves out headers that are absent or unreadable', () => {
    const headers = new Headers({ 'x-ratelimit-remaining-tokens': 'lots', 'x-ratelimit-reset-tokens': '1s' });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({ resetTokensSeconds: 1 });
  });
});

describe('readRateLimitHeaders: the IETF RateLimit fields, as express-rate-limit writes them', () => {
  // A fixed window of 3 requests per second, one request already counted in it.
  it('reads the older triplet (standardHeaders: draft-6)', () => {
    const headers = new Headers({
      'RateLimit-Policy': '3;w=1',
      'RateLimit-Limit': '3',
      'RateLimit-Remaining': '2',
      'RateLimit-Reset': '1',
    });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({
      limitRequests: 3,
      limitRequestsWindowSeconds: 1,
      remainingRequests: 2,
      resetRequestsSeconds: 1,
    });
  });

  it('reads the combined dictionary (standardHeaders: draft-7)', () => {
    const headers = new Headers({ 'RateLimit-Policy': '3;w=1', RateLimit: 'limit=3, remaining=0, reset=1' });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({
      limitRequests: 3,
      limitRequestsWindowSeconds: 1,
      remainingRequests: 0,
      resetRequestsSeconds: 1,
    });
  });

  it('reads a named policy (standardHeaders: draft-8), its partition key a byte sequence', () => {
    const headers = new Headers({
      'RateLimit-Policy': '"3-in-1sec"; q=3; w=1; pk=:ZTNiM2MwNDQ0ZGQy:',
      RateLimit: '"3-in-1sec"; r=1; t=1',
    });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({
      limitRequests: 3,
      limitRequestsWindowSeconds: 1,
      remainingRequests: 1,
      resetRequestsSeconds: 1,
    });
  });

  it('reads, of several request policies, the one with the least remaining', () => {
    const headers = new Headers({
      'RateLimit-Policy': '"burst";q=100;w=60, "daily";q=1000;w=86400',
      RateLimit: '"burst";r=40;t=20, "daily";r=12;t=3000',
    });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({
      limitRequests: 1000,
      limitRequestsWindowSeconds: 86400,
      remainingRequests: 12,
      resetRequestsSeconds: 3000,
    });
  });

  it('leaves out a policy counted in another unit than requests', () => {
    const headers = new Headers({
      'RateLimit-Policy': '"bytes";q=65536;qu="content-bytes";w=10, "calls";q=10;w=1',
      RateLimit: '"bytes";r=0;t=10, "calls";r=7;t=1',
    });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({
      limitRequests: 10,
      limitRequestsWindowSeconds: 1,
      remainingRequests: 7,
      resetRequestsSeconds: 1,
    });
  });

  it('ignores unreadable members rather than guessing', () => {
    const headers = new Headers({ RateLimit: 'limit=three, remaining=-1, reset=soon' });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({});
  });
});

describe("readRateLimitHeaders: Anthropic's anthropic-ratelimit-* headers", () => {
  it('reads requests, tokens, input and output tokens, resets as RFC 3339 instants', () => {
    const headers = new Headers({
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '49',
      'anthropic-ratelimit-requests-reset': '2026-11-23T10:00:01Z',
      'anthropic-ratelimit-tokens-limit': '48000',
      'anthropic-ratelimit-tokens-remaining': '46000',
      'anthropic-ratelimit-tokens-reset': '2026-11-23T10:00:03Z',
      'anthropic-ratelimit-input-tokens-limit': '40000',
      'anthropic-ratelimit-input-tokens-remaining': '39000',
      'anthropic-ratelimit-input-tokens-reset': '2026-11-23T10:00:02.500Z',
      'anthropic-ratelimit-output-tokens-limit': '8000',
      'anthropic-ratelimit-output-tokens-remaining': '7000',
      'anthropic-ratelimit-output-tokens-reset': '2026-11-23T09:59:59Z',
    });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({
      limitRequests: 50,
      limitRequestsWindowSeconds: 60,
      remainingRequests: 49,
      resetRequestsSeconds: 1,
      limitTokens: 48_000,
      limitTokensWindowSeconds: 60,
      remainingTokens: 46_000,
      resetTokensSeconds: 3,
      limitInputTokens: 40_000,
      remainingInputTokens: 39_000,
      resetInputTokensSeconds: 2.5,
      limitOutputTokens: 8_000,
      remainingOutputTokens: 7_000,
      // An instant already past is no wait, never a negative one.
      resetOutputTokensSeconds: 0,
    });
  });
});

describe('readRateLimitHeaders: several header families on one answer', () => {
  it('keeps, per kind, the reading with the least remaining: the limit that binds first', () => {
    const headers = new Headers({
      'x-ratelimit-limit-requests': '500',
      'x-ratelimit-remaining-requests': '120',
      'x-ratelimit-reset-requests': '2s',
      RateLimit: 'limit=10, remaining=3, reset=1',
      'x-ratelimit-remaining-tokens': '900',
    });
    expect(readRateLimitHeaders(headers, NOW_MS)).toEqual({
      limitRequests: 10,
      remainingRequests: 3,
      resetRequestsSeconds: 1,
      remainingTokens: 900,
    });
  });
});

describe('parseResetDuration', () => {
  it('reads the duration forms OpenAI sends', () => {
    expect(
      ['1s', '20ms', '6m0s', '1h2m3.5s', '1m1.02s', '12', 'ms', '5 s', 'later'].map(parseResetDuration),
    ).toEqual([1, 0.02, 360, 3_723.5, 61.02, 12, undefined, undefined, undefined]);
  });
});
