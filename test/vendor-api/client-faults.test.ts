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
      res.writeHead(answers.shift() ?? 200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

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
