import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FixedWindowLimit } from './fixed-window';
import { createProfile } from './profiles';
import type { Routed, SimAnswer, SimRequest } from './routes';
import { copyStats, emptyStats, recordAnswer } from './stats';
import {
  DEFAULT_LIMITS,
  type SimulatorFaults,
  type SimulatorLimits,
  type SimulatorOptions,
  type SimulatorWindow,
  type VendorSimulator,
} from './types';

const MAX_BODY_BYTES = 1_000_000;

/**
 * Starts the vendor simulator on 127.0.0.1. Per request, in order: a dropped connection
 * (fault), the API key (401), a stored idempotent answer (replayed without work), the route
 * (404), the profile's limits (429/503/409, or 400), an injected 500, a hang (fault), the
 * service time (plus a slow fault), then the answer. Work done after the client went away
 * still counts as done, as it would at a real vendor: that is what "outcome unknown" means.
 */
export async function startVendorSimulator(options: SimulatorOptions): Promise<VendorSimulator> {
  const clock = options.clock ?? Date.now;
  const random = options.random ?? Math.random;
  const apiKey = options.apiKey ?? 'local-dev-key';
  const idempotencyHeader = (options.idempotencyHeader ?? 'Idempotency-Key').toLowerCase();
  const latencyMs = options.latencyMs ?? 20;
  const limits: SimulatorLimits = { ...DEFAULT_LIMITS[options.profile], ...options.limits };
  const graceMs = options.graceMs ?? 50;
  let faults: SimulatorFaults = { ...options.faults };
  let profile = createProfile(options.profile, limits, graceMs);
  const newWindow = () =>
    options.fixedWindow
      ? new FixedWindowLimit(options.fixedWindow.limit, Math.round(options.fixedWindow.windowSeconds * 1000))
      : undefined;
  let fixedWindow = newWindow();
  let stats = emptyStats();
  let stored = new Map<string, SimAnswer>();
  const timers = new Set<NodeJS.Timeout>();
  const draw = (rate: number | undefined) => rate !== undefined && rate > 0 && random() < rate;
  const startedAtMs = clock();
  const during = (window: SimulatorWindow | undefined, atMs: number) =>
    window !== undefined &&
    atMs >= startedAtMs + window.fromSeconds * 1000 &&
    atMs < startedAtMs + (window.fromSeconds + window.forSeconds) * 1000;
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const atMs = clock();
    stats.calls += 1;
    const counted = stats;
    counted.inFlight += 1;
    counted.maxInFlight = Math.max(counted.maxInFlight, counted.inFlight);
    res.once('close', () => {
      counted.inFlight -= 1;
    });
    const body = await readBody(req);
    if (faults.down || during(options.schedule?.down, atMs)) {
      // An outage: the connection ends without an answer, as at a vendor that is down.
      stats.faults.down += 1;
      recordAnswer(stats, atMs, 0);
      req.socket.destroy();
      return;
    }
    if (draw(faults.dropRate)) {
      stats.faults.drop += 1;
      recordAnswer(stats, atMs, 0);
      req.socket.destroy();
      return;
    }
    const send = (answer: SimAnswer, completion?: { idempotencyKey?: string; replay: boolean }) => {
      recordAnswer(stats, atMs, answer.status, completion);
      if (res.writableEnded || res.destroyed) return;
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    };
    const revoked = faults.keyRevoked || during(options.schedule?.keyRevoked, atMs);
    if (revoked) stats.faults.revoked += 1;
    if (revoked || req.headers.authorization !== `Bearer ${apiKey}`) {
      return send({ status: 401, body: { error: 'Invalid or missing API key' } });
    }
    if (body === TOO_LARGE) return send({ status: 413, body: { error: 'Request body too large' } });
    const idempotencyKey = headerValue(req.headers[idempotencyHeader]);
    const replay = idempotencyKey === undefined ? undefined : stored.get(idempotencyKey);
    if (replay) {
      const headers = { ...replay.headers, 'idempotent-replayed': 'true' };
      return send({ ...replay, headers }, { idempotencyKey, replay: true });
    }
    const url = new URL(req.url ?? '/', 'http://simulator');
    const request: SimRequest = { method: req.method ?? 'GET', path: url.pathname, body };
    const routed = profile.route(request.method, request.path);
    if (!routed) return send({ status: 404, body: { error: `No route ${request.method} ${request.path}` } });
    const windowed = fixedWindow?.admit(atMs);
    if (fixedWindow) stats.sentBeforeRetryAfter = fixedWindow.earlyRequests;
    if (windowed && !windowed.ok) {
      return send({ status: 429, body: { error: 'Too many requests' }, headers: windowed.headers });
    }
    const admission = profile.admit(request, routed, atMs);
    if ('refusal' in admission) return send(admission.refusal);
    await serve(request, routed, { ...windowed?.headers, ...admission.headers }, idempotencyKey, send, res);
  }

  async function serve(
    request: SimRequest,
    routed: Routed,
    headers: Readonly<Record<string, string>>,
    idempotencyKey: string | undefined,
    send: (answer: SimAnswer, completion?: { idempotencyKey?: string; replay: boolean }) => void,
    res: ServerResponse,
  ): Promise<void> {
    const current = profile;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      current.release(routed);
    };
    try {
      if (draw(faults.errorRate)) {
        stats.faults.error += 1;
        return send({ status: 500, body: { error: 'Internal Server Error (injected)' }, headers });
      }
      if (draw(faults.hangRate)) {
        stats.faults.hang += 1;
        recordAnswer(stats, clock(), 0);
        // The endpoint stays busy until the client gives up, like a stuck Lambda.
        await new Promise<void>((resolve) => res.once('close', resolve));
        return;
      }
      let serviceMs = latencyMs;
      if (draw(faults.slowRate)) {
        stats.faults.slow += 1;
        serviceMs += faults.slowMs ?? 2_000;
      }
      await wait(serviceMs);
      const answer = current.answer(request, routed);
      const withHeaders = { ...answer, headers: { ...headers, ...answer.headers } };
      if (idempotencyKey !== undefined && answer.status < 300) stored.set(idempotencyKey, withHeaders);
      send(withHeaders, { idempotencyKey, replay: false });
    } finally {
      release();
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: `simulator failure: ${String(error)}` }));
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    apiKey,
    profile: options.profile,
    limits,
    stats: () => copyStats(stats),
    reset() {
      stats = emptyStats();
      stored = new Map();
      profile = createProfile(options.profile, limits, graceMs);
      fixedWindow = newWindow();
    },
    setFaults(next) {
      faults = { ...next };
    },
    stop: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.close((error) => (error ? reject(error) : resolve()));
        // Hung requests and keep-alive sockets would hold close() open.
        server.closeAllConnections();
      }),
  };
}

const TOO_LARGE = Symbol('too large');

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return TOO_LARGE;
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
