import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A vendor with a true limit of `limitPerSecond`: a token bucket of that capacity refilling
 * that many per second, the model OpenAI documents and the project's simulator uses
 * (local/simulator/bucket.ts). Above it: 429 with `Retry-After` in whole seconds until one
 * call fits again. It records every call, so refusals can be plotted over time.
 */
export interface RecordedCall {
  readonly atMs: number;
  readonly status: number;
}

export interface LimitedVendor {
  readonly url: string;
  readonly calls: readonly RecordedCall[];
  stop(): Promise<void>;
}

export async function startLimitedVendor(limitPerSecond: number, clock = Date.now): Promise<LimitedVendor> {
  const calls: RecordedCall[] = [];
  let tokens = limitPerSecond;
  let lastMs = clock();
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      const atMs = clock();
      tokens = Math.min(limitPerSecond, tokens + ((atMs - lastMs) / 1000) * limitPerSecond);
      lastMs = atMs;
      if (tokens < 1) {
        calls.push({ atMs, status: 429 });
        const retryAfter = Math.max(1, Math.ceil((1 - tokens) / limitPerSecond));
        response.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(retryAfter) });
        response.end(JSON.stringify({ error: { message: 'Rate limit exceeded' } }));
        return;
      }
      tokens -= 1;
      calls.push({ atMs, status: 200 });
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ ok: true, usage: { total_tokens: 1 } }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Calls, refusals and the refusal share in each `windowSeconds` since the first call. */
export function refusalsOverTime(
  calls: readonly RecordedCall[],
  windowSeconds: number,
): Array<{ fromSeconds: number; calls: number; refusals: number; share: number }> {
  if (calls.length === 0) return [];
  const startMs = Math.min(...calls.map((call) => call.atMs));
  const windows: Array<{ fromSeconds: number; calls: number; refusals: number; share: number }> = [];
  for (const call of calls) {
    const index = Math.floor((call.atMs - startMs) / (windowSeconds * 1000));
    while (windows.length <= index) {
      windows.push({ fromSeconds: windows.length * windowSeconds, calls: 0, refusals: 0, share: 0 });
    }
    const window = windows[index]!;
    window.calls += 1;
    if (call.status === 429) window.refusals += 1;
  }
  for (const window of windows) window.share = window.calls === 0 ? 0 : window.refusals / window.calls;
  return windows;
}

/** Seconds from the first call until the refusal share stays below `threshold`; null if it never does. */
export function secondsUntilBelow(
  windows: ReadonlyArray<{ fromSeconds: number; calls: number; share: number }>,
  threshold: number,
): number | null {
  let since: number | null = null;
  for (const window of windows) {
    if (window.calls > 0 && window.share >= threshold) since = null;
    else since ??= window.fromSeconds;
  }
  return since;
}
