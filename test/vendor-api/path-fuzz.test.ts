import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { isVendorRequestError, resolveRequest, VendorClient } from '../../lambda/vendor-api';
import { parseVendorSettings } from '../../lambda/worker-settings';

/**
 * Thousands of hostile paths and parameter values through the real resolver and the real
 * vendor client (Node's fetch) to a loopback vendor that records the request line it
 * received. The property is about that record, not about what the resolver said: every
 * request that reached the vendor is under the base path and an allowed path, however a
 * server reads it (raw, percent-decoded once or twice, `\` as `/`, Unicode folded, `;`
 * parameters dropped), after its dot segments are resolved.
 */

const ALLOWED = ['/locations', '/visits'];

/** Pieces attackers and sloppy producers put in paths. */
const FRAGMENTS = [
  '.',
  '..',
  '/',
  '//',
  '%2e',
  '%2E',
  '%2f',
  '%2F',
  '%5c',
  '%5C',
  '%00',
  '%252e',
  '%252f',
  '%25',
  '%',
  '\\',
  '\t',
  '\n',
  '\r',
  '\u0000',
  '\u000b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u200b',
  '\uff0e',
  '\u2024',
  '\u2025',
  '\u3002',
  '\uff0f',
  '\u2215',
  ';',
  '..;',
  '.%2e',
  '%2e.',
  '?',
  '#',
  '@',
  ':',
  'http:',
  'evil.example',
  ' ',
  '~',
  'é',
  '😀',
  'admin',
  'keys',
  'locations',
  'visits',
  'loc-1',
];

const fragments = (maxLength: number) =>
  fc.array(fc.constantFrom(...FRAGMENTS), { maxLength }).map((parts) => parts.join(''));

const start = fc.constantFrom('/locations/', '/visits/', '/locations', '/', '//', '/admin/', '');

/** A direct call: a plausible start, then anything, or a few short segments of anything. */
const directMessage = fc.record({
  method: fc.constantFrom('GET', 'POST'),
  path: fc.oneof(
    fc.tuple(start, fragments(10)).map(([first, rest]) => first + rest),
    fc
      .tuple(start, fc.array(fragments(3), { minLength: 1, maxLength: 5 }))
      .map(([first, segments]) => first + segments.join('/')),
  ),
});

/** A named operation whose parameter value is anything. */
const operationMessage = fc.record({
  operation: fc.constant('createVisit'),
  params: fc.record({ locationId: fragments(6) }),
});

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** RFC 3986 remove_dot_segments, on segments. */
function withoutDots(segments: readonly string[]): string[] {
  const kept: string[] = [];
  for (const segment of segments) {
    if (segment === '.') continue;
    if (segment === '..') kept.pop();
    else kept.push(segment);
  }
  return kept;
}

/** The paths different servers would route a received request target to. */
function readings(target: string): string[][] {
  const raw = target.split(/[?#]/, 1)[0] ?? target;
  const once = safeDecode(raw);
  const twice = safeDecode(once);
  const forms = [raw, once, twice].flatMap((form) => [
    form,
    form.replace(/\\/g, '/'),
    form.normalize('NFKC'),
  ]);
  return forms.flatMap((form) => {
    const segments = form.split('/').slice(1);
    const noParameters = segments.map((segment) => segment.split(';', 1)[0] ?? segment);
    return [withoutDots(segments), withoutDots(noParameters)];
  });
}

function isInside(segments: readonly string[]): boolean {
  if (segments[0] !== 'api' || segments[1] !== 'v2') return false;
  return ALLOWED.some((allowed) => segments[2] === allowed.slice(1));
}

describe('vendor paths against a recording loopback vendor', () => {
  let server: Server;
  let baseUrl: string;
  let received: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      received.push(req.url ?? '');
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v2`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('never lets a request land outside the allowed paths, however the vendor reads it', async () => {
    const settings = parseVendorSettings({
      name: 'waitwhile',
      baseUrl,
      allowedPaths: ALLOWED,
      operations: {
        createVisit: {
          method: 'POST',
          path: '/locations/{locationId}/visits',
          dimensions: { 'waitwhile#rps': 1 },
        },
      },
      policy: { maxVendorRetries: 0 },
    });
    const client = new VendorClient({ settings, apiKey: async () => 'fuzz-key' });
    const tally = { refused: 0, sent: 0 };
    const outside: string[] = [];
    await fc.assert(
      fc.asyncProperty(fc.oneof(directMessage, operationMessage), async (message) => {
        received = [];
        let request: ReturnType<typeof resolveRequest>;
        try {
          request = resolveRequest(settings, message);
        } catch (error) {
          if (!isVendorRequestError(error)) throw error;
          tally.refused += 1;
          return true;
        }
        const answer = await client.call({ ...request, deadlineMs: Date.now() + 10_000 });
        if (answer.attempts > 0) tally.sent += 1;
        const landed = received.filter((target) => !readings(target).every(isInside));
        outside.push(...landed);
        // Sent means received, exactly once (no redirect, no retry here).
        return landed.length === 0 && received.length === answer.attempts;
      }),
      {
        numRuns: 5_000,
        seed: 23_017,
        // The bypasses first seen against a real vendor, always tried besides the generated ones.
        examples: [
          [{ method: 'POST', path: '/locations/.\t./.\t./admin/keys' }],
          [{ method: 'POST', path: '/locations/.\n./.\r./admin/keys' }],
          [{ method: 'POST', path: '/locations/..%2F..%2Fadmin/visits' }],
          [{ operation: 'createVisit', params: { locationId: '../../admin' } }],
          // A fullwidth solidus: a server that folds Unicode after decoding reads it as /.
          [{ method: 'GET', path: '/locations/..\uff0fadmin' }],
          [{ operation: 'createVisit', params: { locationId: '..\uff0f..\uff0fadmin' } }],
        ],
      },
    );
    expect(outside).toEqual([]);
    // Not vacuous: a good share of the generated requests was accepted and reached the vendor.
    expect(tally.sent).toBeGreaterThan(300);
    expect(tally.refused).toBeGreaterThan(300);
  });
});
