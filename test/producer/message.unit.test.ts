import { parseMessage, validateMessage } from '../../lambda/producer';

describe('the producer contract', () => {
  it('accepts a named operation with params, body and a token estimate', () => {
    const raw = JSON.stringify({
      id: 'visit-1',
      operation: 'createVisit',
      params: { locationId: 'loc-1' },
      body: { name: 'Ada' },
      tokenEstimate: 300,
    });
    expect(parseMessage(raw)).toEqual({
      ok: true,
      message: {
        id: 'visit-1',
        operation: 'createVisit',
        params: { locationId: 'loc-1' },
        body: { name: 'Ada' },
        tokenEstimate: 300,
      },
    });
  });

  it('accepts a method and a relative path with explicit dimensions', () => {
    const message = {
      id: 'c:1',
      method: 'POST',
      path: '/v1/contacts',
      dimensions: { 'sweeppea#concurrent': 1 },
    };
    expect(validateMessage(message)).toEqual({ ok: true, message });
  });

  it('lists every problem of a message in one reason', () => {
    expect(validateMessage({ id: 'bad id!', operation: 42, extra: true })).toEqual({
      ok: false,
      reason:
        'id: may contain only letters, digits and _ . : - (got "bad id!"); operation: Invalid input: expected string, received number (got 42); extra: is not a known field',
    });
  });

  it('rejects a full URL, a host-relative path and a path without method', () => {
    expect(validateMessage({ id: 'a', method: 'GET', path: 'https://evil.example/steal' })).toEqual({
      ok: false,
      reason:
        'path: must start with / (relative to the vendor base URL) (got "https://evil.example/steal"); path: must not be a full URL (got "https://evil.example/steal")',
    });
    expect(validateMessage({ id: 'a', method: 'GET', path: '//evil.example/x' })).toEqual({
      ok: false,
      reason: 'path: must not start with // (a host is never taken from a message) (got "//evil.example/x")',
    });
    expect(validateMessage({ id: 'a', path: '/v1/contacts' })).toEqual({
      ok: false,
      reason: 'method: is required with path',
    });
  });

  it('rejects both forms at once and neither form', () => {
    expect(validateMessage({ id: 'a', operation: 'x', method: 'GET', path: '/x' })).toEqual({
      ok: false,
      reason: '(message): give either operation or method + path, not both',
    });
    expect(validateMessage({ id: 'a' })).toEqual({
      ok: false,
      reason: '(message): needs operation, or method + path',
    });
  });

  it('rejects a body that is not JSON, naming the parser error', () => {
    expect(parseMessage('{not json')).toEqual({
      ok: false,
      reason: expect.stringMatching(/^\(message\): body is not JSON \(.+\)$/),
    });
  });

  it('rejects an id longer than 128 characters and a fractional token estimate', () => {
    expect(validateMessage({ id: 'x'.repeat(129), operation: 'op', tokenEstimate: 1.5 })).toEqual({
      ok: false,
      reason: `id: must be at most 128 characters (got "${'x'.repeat(56)}...); tokenEstimate: Invalid input: expected int, received number (got 1.5)`,
    });
  });
});
