import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type PageState, pageStateJson, reportPage } from './page';

export interface LiveDashboard {
  /** The page's address, on loopback only. */
  readonly url: string;
  /**
   * Stops serving once every page that was watching has read the finished state (so it stops
   * polling and shows the final figures), or after `FINAL_POLL_WAIT_MS`; at once when no page
   * ever connected.
   */
  stop(): Promise<void>;
}

/** Longer than the page's poll interval (1 s), with room for a slow browser. */
const FINAL_POLL_WAIT_MS = 2_500;

/**
 * Serves the run report's page live on 127.0.0.1 (`npm start -- --dashboard`): `/` is the page,
 * `/state.json` the charts as they are now (the page polls it every second). `state` is asked
 * afresh on every request, so the page follows the run's own meters.
 */
export async function startLiveDashboard(options: {
  readonly port?: number;
  readonly state: () => PageState;
}): Promise<LiveDashboard> {
  let watched = false;
  let finalServed: () => void = () => {};
  const finalRead = new Promise<void>((resolve) => {
    finalServed = resolve;
  });
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    try {
      if (request.method === 'GET' && path === '/') {
        watched = true;
        response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        response.end(reportPage(options.state(), { live: true }));
      } else if (request.method === 'GET' && path === '/state.json') {
        watched = true;
        const state = options.state();
        response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
        response.end(pageStateJson(state));
        if (state.status === 'finished') finalServed();
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
    stop: async () => {
      if (watched) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          finalRead,
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, FINAL_POLL_WAIT_MS);
          }),
        ]);
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}
