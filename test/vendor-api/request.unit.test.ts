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
  within = settings,
): Pick<VendorRequestError, 'name' | 'rule' | 'message'> {
  try {
    resolveRequest(within, message);
  } catch (error) {
    const { name, rule, message: text } = error as VendorRequestError;
    return { name, rule, message: text };
  }
  throw new Error('expected a VendorRequestError');
}

describe('resolveRequest', () => {
  it('fills an operation path with URL-encoded parameters', () => {
    expect(resolveRequest(settings, { operation: 'createVisit', params: { locationId: 'loc 1?x' } })).toEqual(
      {
        operation: 'createVisit',
        method: 'POST',
        path: '/locations/loc%201%3Fx/visits',
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
      'path: must not contain a dot segment (. or ..) (got "/visits/../admin")',
      'path: must not contain %2e (an encoded .) (got "/visits/%2e%2e/admin")',
      'params.locationId: must not be a dot segment (. or ..) (got "..")',
    ]);
  });

  it('rejects a path outside the allow-list, on segment boundaries', () => {
    expect([
      rejection({ method: 'POST', path: '/admin/delete-everything' }).message,
      rejection({ method: 'GET', path: '/visitsadmin' }).message,
    ]).toEqual([
      'path: "/admin/delete-everything" is not under the allowed paths (/visits, /locations) and is no operation\'s path',
      'path: "/visitsadmin" is not under the allowed paths (/visits, /locations) and is no operation\'s path',
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
        message: 'path: must not contain a backslash (got "/visits\\\\..\\\\admin")',
      },
    ]);
  });

  it('refuses text the URL parser or a decoding server would read otherwise, naming the field', () => {
    const direct = (path: string) => rejection({ method: 'POST', path });
    const param = (locationId: string) => rejection({ operation: 'createVisit', params: { locationId } });
    expect([
      direct('/locations/.\t./.\t./admin/keys'),
      direct('/locations/x\n/visits'),
      direct('/locations/..%2F..%2Fadmin/visits'),
      direct('/locations/%5c/visits'),
      direct('/locations/a%00b/visits'),
      direct('/locations/\uff0e\uff0e/visits'),
      param('../../admin'),
      param('..%2F..%2Fadmin'),
      param('a\rb'),
      param('\u2025'),
    ]).toEqual([
      {
        name: 'VendorRequestError',
        rule: 'control-character',
        message:
          'path: must not contain control characters (U+0009) (got "/locations/.\\t./.\\t./admin/keys")',
      },
      {
        name: 'VendorRequestError',
        rule: 'control-character',
        message: 'path: must not contain control characters (U+000A) (got "/locations/x\\n/visits")',
      },
      {
        name: 'VendorRequestError',
        rule: 'encoded-character',
        message: 'path: must not contain %2F (an encoded /) (got "/locations/..%2F..%2Fadmin/visits")',
      },
      {
        name: 'VendorRequestError',
        rule: 'encoded-character',
        message: 'path: must not contain %5c (an encoded \\) (got "/locations/%5c/visits")',
      },
      {
        name: 'VendorRequestError',
        rule: 'encoded-character',
        message: 'path: must not contain %00 (an encoded NUL) (got "/locations/a%00b/visits")',
      },
      {
        name: 'VendorRequestError',
        rule: 'lookalike-character',
        message:
          'path: must not contain U+FF0E, which Unicode folding turns into "." (got "/locations/\uff0e\uff0e/visits")',
      },
      {
        name: 'VendorRequestError',
        rule: 'separator',
        message:
          'params.locationId: must not contain / (it would be sent as %2F, which some servers read as a separator) (got "../../admin")',
      },
      {
        name: 'VendorRequestError',
        rule: 'encoded-character',
        message: 'params.locationId: must not contain %2F (an encoded /) (got "..%2F..%2Fadmin")',
      },
      {
        name: 'VendorRequestError',
        rule: 'control-character',
        message: 'params.locationId: must not contain control characters (U+000D) (got "a\\rb")',
      },
      {
        name: 'VendorRequestError',
        rule: 'lookalike-character',
        message:
          'params.locationId: must not contain U+2025, which Unicode folding turns into ".." (got "\u2025")',
      },
    ]);
  });

  it('returns the path as the URL parser normalised it, relative to the base URL', () => {
    expect([
      resolveRequest(settings, { method: 'GET', path: '/visits/caf\u00e9 1?q=a b#frag' }).path,
      resolveRequest(settings, { method: 'GET', path: '/visits/v-1?' }).path,
    ]).toEqual(['/visits/caf%C3%A9%201?q=a%20b', '/visits/v-1']);
  });

  it('compares allowed paths segment by segment after parsing, so a trailing-slash prefix needs a segment', () => {
    const slashed = parseVendorSettings({ ...settings, allowedPaths: ['/visits/'] });
    expect([
      resolveRequest(slashed, { method: 'GET', path: '/visits/v-1' }).operation,
      rejection({ method: 'GET', path: '/visits' }, slashed).rule,
    ]).toEqual(['GET /visits/', 'not-allowed']);
  });
});
