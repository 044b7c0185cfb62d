import type { Tally } from '../report/tally';

export type Fetch = typeof fetch;

/** A fault the chaos plan injects into one vendor call (see chaos.ts). */
export type VendorFault = 'kill' | 'server-error' | 'hang';

/**
 * The `fetch` the local worker calls the vendor with: counts every answer by status and
 * every 2xx by idempotency key (so the report can prove no message was sent twice, with any
 * vendor), and applies the chaos plan's faults before the call leaves the process.
 */
export function instrumentedFetch(options: {
  readonly tally: Tally;
  readonly idempotencyHeader: string;
  readonly fault?: () => VendorFault | undefined;
  /** Called for `kill`: the poller abandons the invocation (see EventSourcePoller). */
  readonly onKill?: () => void;
  /** Told when a call leaves for the vendor (+1) and when it ends (-1): calls in flight. */
  readonly onCall?: (delta: 1 | -1) => void;
  readonly base?: Fetch;
}): Fetch {
  const base = options.base ?? fetch;
  return async (input, init) => {
    const key = headerOf(init?.headers, options.idempotencyHeader);
    const fault = options.fault?.();
    if (fault === 'kill') {
      options.tally.chaosInjected('worker died between acquire and release');
      options.onKill?.();
      // A dead environment never answers and never runs the handler's `finally`.
      return new Promise<Response>(() => {});
    }
    if (fault === 'server-error') {
      options.tally.chaosInjected('vendor answered 500');
      options.tally.vendorAnswered(500, key);
      return new Response(JSON.stringify({ error: 'chaos: injected server error' }), {
        status: 500,
        headers: { 'content-type': 'application/json' },
      });
    }
    if (fault === 'hang') {
      options.tally.chaosInjected('vendor hung until the deadline');
      options.tally.vendorDidNotAnswer('chaos: hung until the deadline', baseUrlOf(input));
      options.onCall?.(1);
      return hangUntilAborted(init?.signal ?? undefined).finally(() => options.onCall?.(-1));
    }
    options.onCall?.(1);
    try {
      const response = await base(input, init);
      options.tally.vendorAnswered(response.status, key);
      return response;
    } catch (error) {
      options.tally.vendorDidNotAnswer(failureCause(error), baseUrlOf(input));
      throw error;
    } finally {
      options.onCall?.(-1);
    }
  };
}

/**
 * Why a call got no answer, in words: fetch only says "fetch failed"; the cause's code says
 * what happened (undici puts the socket error in `cause`).
 */
export function failureCause(error: unknown): string {
  const name = (error as { name?: string }).name;
  if (name === 'AbortError' || name === 'TimeoutError') return 'no answer before the deadline';
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const code = cause?.code;
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset',
    ENOTFOUND: 'host not found',
    EAI_AGAIN: 'host name lookup failed',
    ETIMEDOUT: 'connect timeout',
    UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
    UND_ERR_SOCKET: 'connection closed',
    EHOSTUNREACH: 'host unreachable',
    CERT_HAS_EXPIRED: 'TLS certificate expired',
  };
  if (code) return `${words[code] ?? cause?.message ?? 'network error'} (${code})`;
  // fetch refuses some ports before connecting (the Fetch standard's "bad ports": 9, 25, 6000 ...).
  if (cause?.message === 'bad port')
    return 'port refused by fetch itself (a "bad port" of the Fetch standard)';
  if (cause?.message) return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/** The scheme, host and port a call went to: the part a user can check. */
function baseUrlOf(input: Parameters<Fetch>[0]): string {
  const text = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  try {
    return new URL(text).origin;
  } catch {
    return text;
  }
}

function hangUntilAborted(signal: AbortSignal | undefined): Promise<Response> {
  return new Promise((_, reject) => {
    const abort = () =>
      reject(signal?.reason ?? new DOMException('The operation was aborted.', 'AbortError'));
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}

function headerOf(headers: RequestInit['headers'], name: string): string | undefined {
  if (!headers) return undefined;
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const wanted = name.toLowerCase();
  const entries = Array.isArray(headers) ? headers : Object.entries(headers);
  const value = entries.find(([key]) => key.toLowerCase() === wanted)?.[1];
  return typeof value === 'string' ? value : value?.[0];
}
