import { parseResetDuration, parseRetryAfter, readRateLimitHeaders } from '../../lambda/vendor';

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
    expect(readRateLimitHeaders(headers)).toEqual({
      limitRequests: 500,
      remainingRequests: 499,
      resetRequestsSeconds: 0.12,
      limitTokens: 40_000,
      remainingTokens: 38_000,
      resetTokensSeconds: 360,
    });
  });

  it('leaves out headers that are absent or unreadable', () => {
    const headers = new Headers({ 'x-ratelimit-remaining-tokens': 'lots', 'x-ratelimit-reset-tokens': '1s' });
    expect(readRateLimitHeaders(headers)).toEqual({ resetTokensSeconds: 1 });
  });
});

describe('parseResetDuration', () => {
  it('reads the duration forms OpenAI sends', () => {
    expect(
      ['1s', '20ms', '6m0s', '1h2m3.5s', '1m1.02s', '12', 'ms', '5 s', 'later'].map(parseResetDuration),
    ).toEqual([1, 0.02, 360, 3_723.5, 61.02, 12, undefined, undefined, undefined]);
  });
});
