import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PageState, pageStateJson, reportPage } from './page';

export interface LiveDashboard {
  /** The page's address, on loopback only. */
  readonly url: string;
  stop(): Promise<void>;
}

/**
 * Serves the run report's page live on 127.0.0.1 (`npm start -- --dashboard`): `/` is the page,
 * `/state.json` the charts as they are now (the page polls it every second). `state` is asked
 * afresh on every request, so the page follows the run's own meters.
 */
export async function startLiveDashboard(options: {
  readonly port?: number;
  readonly state: () => PageState;
}): Promise<LiveDashboard> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    try {
      if (request.method === 'GET' && path === '/') {
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(reportPage(options.state(), { live: true }));
      } else if (request.method === 'GET' && path === '/state.json') {
        response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(pageStateJson(options.state()));
      } else if (path === '/favicon.ico') {
        // Browsers ask for one; an empty answer keeps their console free of 404s.
        response.writeHead(204);
        response.end();
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found: the dashboard serves / and /state.json\n');
      }
    } catch (error) {
      response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`dashboard error: ${error instanceof Error ? error.message : String(error)}\n`);
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
