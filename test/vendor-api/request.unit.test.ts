import { resolveRequest, type VendorRequestError } from '../../lambda/vendor-api';
import { parseVendorSettings } from '../../lambda/worker-settings';

const settings = parseVendorSettings({
  name: 'waitwhile',
  baseUrl: 'https://api.waitwhile.com/v2',
  allowedPaths: ['/visits', '/locations'],
  operations: {
    createVisit: {
      method: 'POST',
      path: '/locations/{locationId}/visits',
      dimensions: { 'waitwhile#rps': 1 },
    },
  },
});

function rejection(
  message: Parameters<typeof resolveRequest>[1],
): Pick<VendorRequestError, 'name' | 'rule' | 'message'> {
  try {
    resolveRequest(settings, message);
  } catch (error) {
    const { name, rule, message: text } = error as VendorRequestError;
    return { name, rule, message: text };
  }
  throw new Error('expected a VendorRequestError');
}

describe('resolveRequest', () => {
  it('fills an operation path with URL-encoded parameters', () => {
    expect(resolveRequest(settings, { operation: 'createVisit', params: { locationId: 'loc 1/2' } })).toEqual(
      {
        operation: 'createVisit',
        method: 'POST',
        path: '/locations/loc%201%2F2/visits',
      },
    );
  });

  it('accepts a method and a path under the allow-list, named by its prefix', () => {
    expect(resolveRequest(settings, { method: 'get', path: '/visits/v-1' })).toEqual({
      operation: 'GET /visits',
      method: 'GET',
      path: '/visits/v-1',
    });
  });

  it("names a direct call that is exactly an operation's path after that operation", () => {
    expect(resolveRequest(settings, { method: 'POST', path: '/locations/loc-9/visits' }).operation).toBe(
      'createVisit',
    );
  });

  it('rejects a full URL', () => {
    expect(rejection({ method: 'GET', path: 'https://evil.example/visits' })).toEqual({
      name: 'VendorRequestError',
      rule: 'full-url',
      message: `path "https://evil.example/visits" is a full URL; a message carries a path relative to the vendor's base URL`,
    });
  });

  it('rejects a protocol-relative path', () => {
    expect(rejection({ method: 'GET', path: '//evil.example/visits' })).toEqual({
      name: 'VendorRequestError',
      rule: 'protocol-relative',
      message: `path "//evil.example/visits" is protocol-relative (starts with //); a message carries a path relative to the vendor's base URL`,
    });
  });

  it('rejects dot segments, plain or percent-encoded, and a dot parameter', () => {
    expect([
      rejection({ method: 'GET', path: '/visits/../admin' }).message,
      rejection({ method: 'GET', path: '/visits/%2e%2e/admin' }).message,
      rejection({ operation: 'createVisit', params: { locationId: '..' } }).message,
    ]).toEqual([
      'path "/visits/../admin" contains a dot segment (. or ..)',
      'path "/visits/%2e%2e/admin" contains a dot segment (. or ..)',
      'parameter "locationId" is "..", a dot segment, in path /locations/{locationId}/visits',
    ]);
  });

  it('rejects a path outside the allow-list, on segment boundaries', () => {
    expect([
      rejection({ method: 'POST', path: '/admin/delete-everything' }).message,
      rejection({ method: 'GET', path: '/visitsadmin' }).message,
    ]).toEqual([
      'path "/admin/delete-everything" is not under the allowed paths (/visits, /locations) and is no operation\'s path',
      'path "/visitsadmin" is not under the allowed paths (/visits, /locations) and is no operation\'s path',
    ]);
  });

  it('rejects unknown operations, missing parameters, unknown methods and empty requests', () => {
    expect([
      rejection({ operation: 'noSuchOperation' }),
      rejection({ operation: 'createVisit' }),
      rejection({ method: 'TRACE', path: '/visits' }),
      rejection({ path: '/visits' }),
      rejection({ method: 'GET', path: 'visits' }),
      rejection({ method: 'GET', path: '/visits\\..\\admin' }),
    ]).toEqual([
      {
        name: 'VendorRequestError',
        rule: 'unknown-operation',
        message: 'operation "noSuchOperation" is not configured (known: createVisit)',
      },
      {
        name: 'VendorRequestError',
        rule: 'missing-parameter',
        message:
          'operation "createVisit" needs parameter "locationId" for path /locations/{locationId}/visits',
      },
      {
        name: 'VendorRequestError',
        rule: 'method',
        message: 'method "TRACE" is not one of GET, HEAD, POST, PUT, PATCH, DELETE',
      },
      {
        name: 'VendorRequestError',
        rule: 'missing-request',
        message: 'a vendor request needs an operation, or a method and a path',
      },
      { name: 'VendorRequestError', rule: 'relative-path', message: 'path "visits" must start with /' },
      {
        name: 'VendorRequestError',
        rule: 'backslash',
        message: 'path "/visits\\..\\admin" contains a backslash',
      },
    ]);
  });
});
