import { backoffDelayMs, classifyStatus } from '../../lambda/vendor-api';

describe('classifyStatus', () => {
  it('sorts every status the decision tree names into its class', () => {
    const statuses = [200, 201, 204, 429, 503, 409, 408, 425, 500, 502, 504, 599, 401, 403, 400, 404, 422];
    expect(statuses.map((status) => [status, classifyStatus(status)])).toEqual([
      [200, 'success'],
      [201, 'success'],
      [204, 'success'],
      [429, 'rate_limited'],
      [503, 'busy'],
      [409, 'busy'],
      [408, 'transient'],
      [425, 'transient'],
      [500, 'transient'],
      [502, 'transient'],
      [504, 'transient'],
      [599, 'transient'],
      [401, 'unauthorized'],
      [403, 'unauthorized'],
      [400, 'rejected'],
      [404, 'rejected'],
      [422, 'rejected'],
    ]);
  });

  it('treats 409 as rejected when the vendor does not document it as back-pressure', () => {
    expect(classifyStatus(409, { busyStatuses: [] })).toBe('rejected');
    expect(classifyStatus(423, { busyStatuses: [423] })).toBe('busy');
  });

  it('refuses a number that is no HTTP status', () => {
    expect(() => classifyStatus(42)).toThrow('HTTP status 42 is not an integer between 100 and 599');
  });
});

describe('backoffDelayMs', () => {
  const options = { baseMs: 200, maxMs: 5_000 };

  it('doubles the ceiling per attempt and caps it at maxMs, with the largest draw', () => {
    const justBelowOne = () => 0.999_999;
    expect(
      [0, 1, 2, 3, 4, 5, 6, 60].map((attempt) => backoffDelayMs(attempt, options, justBelowOne)),
    ).toEqual([199, 399, 799, 1_599, 3_199, 4_999, 4_999, 4_999]);
  });

  it('can wait zero with full jitter, and scales the draw into the ceiling', () => {
    expect(backoffDelayMs(3, options, () => 0)).toBe(0);
    expect(backoffDelayMs(3, options, () => 0.5)).toBe(800);
  });

  it('refuses a negative attempt and an inverted range', () => {
    expect(() => backoffDelayMs(-1, options, Math.random)).toThrow(
      'backoff attempt -1 must be a non-negative integer',
    );
    expect(() => backoffDelayMs(0, { baseMs: 500, maxMs: 100 }, Math.random)).toThrow(
      'backoff needs 0 < baseMs <= maxMs, got baseMs 500 and maxMs 100',
    );
  });
});
