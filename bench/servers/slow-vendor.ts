import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A vendor with a service time and true limits, recording every call from arrival to answer so
 * the calls in flight can be counted at the vendor. Its limits are token buckets (the model the
 * simulator and OpenAI document): each call takes `cost` from every limit or is refused with 429
 * and `Retry-After` (whole seconds until the call fits again). With `concurrency`, a call
 * arriving while that many are being served is refused with 503 (a vendor that serves one
 * request at a time). The pool stage (pool-drain.ts) and the drain stage (vendor-server.ts)
 * both start their vendor here.
 */
export interface VendorLimit {
  readonly name: string;
  readonly capacity: number;
  readonly perSecond: number;
  /** Units one call takes. */
  readonly cost: number;
}

export interface VendorModel {
  readonly latencyMs: number;
  readonly limits: readonly VendorLimit[];
  readonly concurrency?: number;
  /** Reported back as `usage.total_tokens`, so the worker's settlement changes nothing. */
  readonly tokensPerCall?: number;
}

export interface TimedCall {
  readonly atMs: number;
  endMs: number;
  readonly status: number;
}

export interface SlowVendor {
  readonly url: string;
  readonly calls: readonly TimedCall[];
  stop(): Promise<void>;
}

export async function startSlowVendor(model: VendorModel, clock = Date.now): Promise<SlowVendor> {
  const calls: TimedCall[] = [];
  const levels = model.limits.map((limit) => ({ limit, tokens: limit.capacity, atMs: clock() }));
  let serving = 0;
  const timers = new Set<NodeJS.Timeout>();
  const admit = (atMs: number): number | undefined => {
    for (const level of levels) {
      const { capacity, perSecond } = level.limit;
      level.tokens = Math.min(capacity, level.tokens + ((atMs - level.atMs) / 1000) * perSecond);
      level.atMs = atMs;
    }
    const short = levels.find((level) => level.tokens < level.limit.cost);
    if (short) return Math.max(1, Math.ceil((short.limit.cost - short.tokens) / short.limit.perSecond));
    for (const level of levels) level.tokens -= level.limit.cost;
    return undefined;
  };
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const atMs = clock();
      const answer = (status: number, headers: Record<string, string>, body: unknown) => {
        const call: TimedCall = { atMs, endMs: atMs, status };
        calls.push(call);
        return () => {
          call.endMs = clock();
          response.writeHead(status, { 'content-type': 'application/json', ...headers });
          response.end(JSON.stringify(body));
        };
      };
      if (model.concurrency !== undefined && serving >= model.concurrency) {
        answer(503, {}, { error: 'busy: one request at a time' })();
        return;
      }
      const retryAfter = admit(atMs);
      if (retryAfter !== undefined) {
        answer(429, { 'retry-after': String(retryAfter) }, { error: { message: 'Rate limit exceeded' } })();
        return;
      }
      const done = answer(200, {}, { ok: true, usage: { total_tokens: model.tokensPerCall ?? 1 } });
      // No service time: answered at once, as a vendor whose only trait is its limit.
      if (model.latencyMs === 0) {
        done();
        return;
      }
      serving += 1;
      const timer = setTimeout(() => {
        timers.delete(timer);
        serving -= 1;
        done();
      }, model.latencyMs);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise((resolve) => {
        for (const timer of timers) clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Per second since the first call: the most calls in flight at the vendor, and the calls it admitted. */
export function inFlightOverTime(
  calls: readonly TimedCall[],
): Array<{ second: number; maxInFlight: number; admitted: number }> {
  if (calls.length === 0) return [];
  const startMs = Math.min(...calls.map((call) => call.atMs));
  const lastMs = Math.max(...calls.map((call) => call.endMs));
  const seconds = Math.floor((lastMs - startMs) / 1000) + 1;
  const out = Array.from({ length: seconds }, (_, second) => ({ second, maxInFlight: 0, admitted: 0 }));
  // Arrivals (+1) and answers (−1) in time order; an answer at the same ms as an arrival goes first.
  const events = calls
    .flatMap((call) => [
      { atMs: call.atMs, delta: 1 },
      { atMs: call.endMs, delta: -1 },
    ])
    .sort((a, b) => a.atMs - b.atMs || a.delta - b.delta);
  let inFlight = 0;
  for (const event of events) {
    inFlight += event.delta;
    const slot = out[Math.floor((event.atMs - startMs) / 1000)];
    if (slot) slot.maxInFlight = Math.max(slot.maxInFlight, inFlight);
  }
  for (const call of calls) {
    const slot = out[Math.floor((call.atMs - startMs) / 1000)];
    if (slot && call.status === 200) slot.admitted += 1;
  }
  return out;
}

/** The most calls ever in flight at the vendor at once. */
export function maxCallsInFlight(calls: readonly TimedCall[]): number {
  return Math.max(0, ...inFlightOverTime(calls).map((s) => s.maxInFlight));
}

/**
 * Seconds in which callers asked the vendor for more than its true limit: the distinct seconds
 * (since the first call) holding at least one refused call (429 or 503). The vendor admits
 * nothing above its limit, so a refusal is the only trace of asking above it.
 */
export function secondsAboveLimit(calls: readonly TimedCall[]): number {
  if (calls.length === 0) return 0;
  const startMs = Math.min(...calls.map((call) => call.atMs));
  const seconds = new Set(
    calls.filter((call) => call.status !== 200).map((call) => Math.floor((call.atMs - startMs) / 1000)),
  );
  return seconds.size;
}
