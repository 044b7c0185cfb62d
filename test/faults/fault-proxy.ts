import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * An HTTP proxy in front of DynamoDB Local that produces, on demand, the faults a real server
 * will not: the request is applied and then its answer is lost (the connection dropped, or an
 * HTTP 500 in its place), the answer is late, the connection is accepted and never answered, or
 * the request is refused unapplied (the connection dropped, or throttled).
 * Faults are planned per DynamoDB operation (`X-Amz-Target`, e.g. `UpdateItem`) and consumed in
 * order; every other request passes through untouched.
 */
export type Fault =
  /** Forward, let DynamoDB apply it, then destroy the client's connection without an answer. */
  | { readonly kind: 'applyThenDrop' }
  /** Forward, let DynamoDB apply it, then answer 500 InternalServerError instead. */
  | { readonly kind: 'applyThen500' }
  /** Forward after `ms`, and pass the answer through. */
  | { readonly kind: 'delay'; readonly ms: number }
  /** Accept the request and never answer, never forward. */
  | { readonly kind: 'silent' }
  /** Never forward, destroy the connection at once: the table is unreachable at that moment. */
  | { readonly kind: 'unreachable' }
  /** Never forward, answer 400 ProvisionedThroughputExceededException as a throttled table does. */
  | { readonly kind: 'throttle' };

export class FaultProxy {
  private readonly planned: { operation: string; fault: Fault }[] = [];
  private readonly sockets = new Set<Socket>();
  /** Requests that reached DynamoDB, by operation (a lost answer's request counts: it was applied). */
  readonly forwarded = new Map<string, number>();
  /** Faults injected so far, by operation. */
  readonly injected = new Map<string, number>();

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
  ) {}

  static async start(upstreamEndpoint: string): Promise<FaultProxy> {
    let proxy: FaultProxy | undefined;
    const server = createServer((req, res) => {
      void proxy?.handle(req, res);
    });
    proxy = new FaultProxy(server, new URL(upstreamEndpoint));
    server.on('connection', (socket) => {
      proxy?.sockets.add(socket);
      socket.on('close', () => proxy?.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    const address = this.server.address();
    if (typeof address !== 'object' || !address) throw new Error('fault proxy is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  /** The next request for `operation` meets `fault` (`times` requests in a row). */
  plan(operation: string, fault: Fault, times = 1): void {
    for (let i = 0; i < times; i++) this.planned.push({ operation, fault });
  }

  /** Drops every fault planned and not yet met (the table is back); returns how many. */
  clear(): number {
    return this.planned.splice(0).length;
  }

  /** Faults planned but not yet met: a test asserts 0, so a fault that never fired cannot pass silently. */
  get pending(): number {
    return this.planned.length;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private async handle(req: IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const operation = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    const index = this.planned.findIndex((p) => p.operation === operation);
    const fault = index >= 0 ? this.planned.splice(index, 1)[0]!.fault : undefined;
    if (fault) this.injected.set(operation, (this.injected.get(operation) ?? 0) + 1);
    if (fault?.kind === 'silent') return; // the socket stays open, nothing is ever written
    if (fault?.kind === 'unreachable') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'throttle') {
      res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded (injected)',
        }),
      );
      return;
    }
    if (fault?.kind === 'delay') await new Promise((resolve) => setTimeout(resolve, fault.ms));
    const answer = await this.forward(req, body);
    this.forwarded.set(operation, (this.forwarded.get(operation) ?? 0) + 1);
    if (fault?.kind === 'applyThenDrop') {
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'applyThen500') {
      res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
          message: 'Internal server error (injected after the request was applied)',
        }),
      );
      return;
    }
    res.writeHead(answer.status, answer.headers);
    res.end(answer.body);
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers = { ...req.headers, host: this.upstream.host };
      const out = httpRequest(
        {
          host: this.upstream.hostname,
          port: this.upstream.port,
          method: req.method,
          path: req.url,
          headers,
        },
        (upstream) => {
          const parts: Buffer[] = [];
          upstream.on('data', (c: Buffer) => parts.push(c));
          upstream.on('end', () => {
            const passed: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(upstream.headers)) {
              if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding')
                passed[name] = value;
            }
            resolve({ status: upstream.statusCode ?? 502, headers: passed, body: Buffer.concat(parts) });
          });
          upstream.on('error', reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}
