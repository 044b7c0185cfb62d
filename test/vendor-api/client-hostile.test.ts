import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RESPONSE_TOO_LARGE } from '../../lambda/vendor-api/client';
import { parseVendorSettings } from '../../lambda/worker-settings';
import { clientFor, createVisit, settingsFor, summary } from './client-helpers';

/**
 * A vendor that misbehaves on purpose, on loopback: it redirects elsewhere, answers with more
 * than the worker may hold, or is sent a key that no header can carry. What counts is what
 * the servers received and how the connection ended, not what the client reports.
 */

interface Loopback {
  readonly url: string;
  readonly hits: string[];
  readonly server: Server;
}

async function loopback(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Loopback> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits, server };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('VendorClient and a redirecting vendor', () => {
  let elsewhere: Loopback;
  let vendor: Loopback;
  beforeAll(async () => {
    elsewhere = await loopback((_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"stolen":true}');
    });
    vendor = await loopback((req, res) => {
      req.resume();
      res.writeHead(307, { location: `${elsewhere.url}/collect${req.url}` });
      res.end();
    });
  });
  afterAll(async () => {
    await close(vendor.server);
    await close(elsewhere.server);
  });

  it('never follows a 307: the other origin is never hit, and the answer is rejected with its Location', async () => {
    const { client } = clientFor(vendor.url);
    const result = await client.call(createVisit({ idempotencyKey: 'k-1' }));
    expect({
      ...summary(result),
      error: result.error,
      vendorHits: vendor.hits,
      elsewhereHits: elsewhere.hits,
    }).toEqual({
      class: 'rejected',
      status: 307,
      attempts: 1,
      outcomeUnknown: false,
      cached: false,
      error: `redirect not followed (Location "${elsewhere.url}/collect/locations/loc-1/visits")`,
      vendorHits: ['POST /locations/loc-1/visits'],
      elsewhereHits: [],
    });
  });
});

describe('VendorClient and answers over vendor.maxResponseBytes', () => {
  const CAP = 64 * 1024;
  const CHUNK = Buffer.alloc(16 * 1024, 'x');
  /** Bytes the streaming vendor managed to write before the client hung up, per request. */
  let streamed: Promise<{ written: number; finished: boolean }>;
  let vendor: Loopback;
  beforeAll(async () => {
    vendor = await loopback((req, res) => {
      if (req.url?.startsWith('/locations/declared')) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(CAP + 1) });
        res.end(Buffer.alloc(CAP + 1, ' '));
        return;
      }
      if (req.url?.startsWith('/locations/small')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`"${'y'.repeat(CAP - 2)}"`);
        return;
      }
      // No Content-Length: chunked, up to 64 MiB, as long as the client keeps reading.
      streamed = new Promise((resolve) => {
        let written = 0;
        res.writeHead(200, { 'content-type': 'application/json' });
        const total = 64 * 1024 * 1024;
        const pump = () => {
          while (written < total) {
            written += CHUNK.length;
            if (!res.write(CHUNK)) return void res.once('drain', pump);
          }
          res.end();
          resolve({ written, finished: true });
        };
        res.on('close', () => resolve({ written, finished: written >= total }));
        pump();
      });
    });
  });
  afterAll(() => close(vendor.server));

  const capped = (url: string) =>
    clientFor(url, { settings: parseVendorSettings({ ...settingsFor(url), maxResponseBytes: CAP }) }).client;
  const read = (path: string) => ({
    operation: 'getLocation',
    method: 'GET',
    path,
    deadlineMs: Date.now() + 10_000,
  });

  it('takes a HEAD answer whose Content-Length (the size of the GET) is over the cap', async () => {
    const result = await capped(vendor.url).call({ ...read('/locations/declared'), method: 'HEAD' });
    expect([result.class, result.status, result.body, result.error]).toEqual([
      'success',
      200,
      undefined,
      undefined,
    ]);
  });

  it('keeps an answer of exactly the cap', async () => {
    const result = await capped(vendor.url).call(read('/locations/small'));
    expect([result.class, (result.body as string).length]).toEqual(['success', CAP - 2]);
  });

  it('refuses an answer whose Content-Length is over the cap, without its body, and caches nothing', async () => {
    const client = capped(vendor.url);
    const result = await client.call(read('/locations/declared'));
    expect([summary(result), result.body, result.error?.startsWith(`${RESPONSE_TOO_LARGE}: `)]).toEqual([
      { class: 'rejected', status: 200, attempts: 1, outcomeUnknown: false, cached: false },
      undefined,
      true,
    ]);
    expect(client.cachedResponse(read('/locations/declared'))).toBeUndefined();
  });

  it('stops reading a streamed answer with no Content-Length at the cap: the vendor sees the connection close', async () => {
    const result = await capped(vendor.url).call(read('/locations/stream'));
    const { written, finished } = await streamed;
    expect([summary(result), result.body, result.error?.startsWith(`${RESPONSE_TOO_LARGE}: `)]).toEqual([
      { class: 'rejected', status: 200, attempts: 1, outcomeUnknown: false, cached: false },
      undefined,
      true,
    ]);
    // The vendor was cut off long before its 64 MiB (socket buffers hold a few MiB at most).
    expect(finished).toBe(false);
    expect(written).toBeLessThan(32 * 1024 * 1024);
  });
});

describe('VendorClient and a key no header can carry', () => {
  let vendor: Loopback;
  beforeAll(async () => {
    vendor = await loopback((_req, res) => {
      res.writeHead(200);
      res.end();
    });
  });
  afterAll(() => close(vendor.server));

  it.each([
    ['a line break', 'sk-live-4f9a\nb7c2e1d0'],
    ['a NUL', 'sk-live-4f9a\u0000b7c2e1d0'],
    ['a character past Latin-1', 'sk-live-4f9a\u2713b7c2e1d0'],
  ])('keeps a key with %s out of the error, and knows nothing was sent', async (_what, key) => {
    const { client } = clientFor(vendor.url, { apiKey: async () => key });
    const result = await client.call(createVisit());
    expect(result.error).toBeDefined();
    expect([
      result.error?.includes('sk-live-4f9a'),
      result.error?.includes('b7c2e1d0'),
      result.outcomeUnknown,
      vendor.hits,
    ]).toEqual([false, false, false, []]);
  });
});
