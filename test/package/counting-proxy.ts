import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyCounts {
  calls: number;
  byStatus: Record<string, number>;
}

/**
 * Forwards every request unchanged to `target` and counts the answers by status: the calls
 * of one product, told apart from the others' at the same vendor.
 */
export async function startCountingProxy(
  target: string,
): Promise<{ url: string; counts: () => ProxyCounts; stop: () => Promise<void> }> {
  const counts: ProxyCounts = { calls: 0, byStatus: {} };
  const server = createServer((incoming, outgoing) => {
    counts.calls += 1;
    const forward = request(
      new URL(incoming.url ?? '/', target),
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        const status = String(answer.statusCode ?? 0);
        counts.byStatus[status] = (counts.byStatus[status] ?? 0) + 1;
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => {
      counts.byStatus['0'] = (counts.byStatus['0'] ?? 0) + 1;
      outgoing.destroy();
    });
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => structuredClone(counts),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
