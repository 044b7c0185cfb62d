import { createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP server that accepts every connection, reads what it is sent and never answers: the
 * fault no real AWS server produces on demand (a black-holed endpoint, a hung load balancer).
 * It counts connections, so a test can see how many attempts a client made.
 */
export interface SilentEndpoint {
  readonly url: string;
  /** Connections accepted so far (one per attempt: a timed-out attempt destroys its socket). */
  connections(): number;
  close(): Promise<void>;
}

export async function startSilentEndpoint(): Promise<SilentEndpoint> {
  const sockets: Socket[] = [];
  const server: Server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => {});
    socket.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => sockets.length,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
