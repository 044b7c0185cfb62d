import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { clientFor, createVisit, summary } from './client-helpers';

/** A tiny server for the answers no simulator profile sends (a 408), and a refused connection. */

describe('VendorClient and faults no simulator profile sends', () => {
  let server: Server;
  let url: string;
  let answers: number[];
  beforeAll(async () => {
    server = createServer((_req, res) => {
      const status = answers.shift() ?? 200;
      // 0: the vendor never answers (a hang); the connection is closed with the server.
      if (status === 0) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );

  it('cuts a hung attempt of a request safe to repeat at its hang timeout and repeats it', async () => {
    answers = [0, 201];
    const { client } = clientFor(url);
    const repeats: string[] = [];
    const result = await client.call({
      ...createVisit({ idempotencyKey: 'msg-1', deadlineMs: Date.now() + 15_000 }),
      hangTimeoutMs: 200,
      beforeRepeat: async () => {
        repeats.push('granted');
        return true;
      },
    });
    expect([summary(result), repeats]).toEqual([
      { class: 'success', status: 201, attempts: 2, outcomeUnknown: false, cached: false },
      ['granted'],
    ]);
  });

  it('ignores the hang timeout for a request not safe to repeat: its cut attempt would have an unknown outcome', async () => {
    answers = [0, 201];
    const { client } = clientFor(url);
    // No idempotency key, a POST: only the call's own deadline ends the hang, and nothing is repeated.
    const result = await client.call({
      ...createVisit({ deadlineMs: Date.now() + 1_500 }),
      hangTimeoutMs: 200,
    });
    expect(summary(result)).toEqual({
      class: 'transient',
      status: undefined,
      attempts: 1,
      outcomeUnknown: true,
      cached: false,
    });
    answers = [];
  });

  it('repeats a 408 even for a POST without a key: the vendor did not process it', async () => {
    answers = [408, 201];
    const { client, sleeps } = clientFor(url);
    const result = await client.call(createVisit());
    expect([summary(result), sleeps]).toEqual([
      { class: 'success', status: 201, attempts: 2, outcomeUnknown: false, cached: false },
      [100],
    ]);
  });

  it('repeats a POST whose connection was refused: it never left', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const { client } = clientFor(`http://127.0.0.1:${port}`);
    const result = await client.call(createVisit());
    expect(summary(result)).toEqual({
      class: 'transient',
      status: undefined,
      attempts: 3,
      outcomeUnknown: false,
      cached: false,
    });
    expect(result.error).toMatch(/^network error ECONNREFUSED: /);
  });
});
