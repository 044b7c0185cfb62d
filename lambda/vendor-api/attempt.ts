/**
 * One HTTP exchange with the vendor, bounded by a deadline and the caller's signal. Every
 * way it can end is a value: a response (any status), or a failure that says whether the
 * request may have reached the vendor (`sent`), which decides whether repeating it is safe.
 */

export type AttemptOutcome =
  | {
      readonly kind: 'response';
      readonly status: number;
      readonly headers: Headers;
      /** Undefined when empty, and when the body was over the cap (`tooLarge`). */
      readonly body: unknown;
      /** Bytes of body read (decoded), up to the cap. */
      readonly bodyBytes: number;
      /** The body was over `maxResponseBytes`: its read was stopped and nothing of it kept. */
      readonly tooLarge: boolean;
      readonly latencyMs: number;
    }
  | {
      readonly kind: 'failure';
      /** `deadline`: the call's own deadline; `attempt-timeout`: the per-request cap; `aborted`: the caller's signal. */
      readonly reason: 'deadline' | 'attempt-timeout' | 'aborted' | 'network';
      /** False only when the request provably never left (connection refused, DNS). */
      readonly sent: boolean;
      readonly error: string;
      readonly latencyMs: number;
    };

/** Errors raised before a connection exists: the vendor cannot have seen the request. */
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

export interface AttemptLimits {
  /** Absolute epoch ms at which this attempt is aborted. */
  readonly abortAtMs: number;
  /** True when `abortAtMs` is the whole call's deadline, not just this attempt's cap. */
  readonly isCallDeadline: boolean;
  readonly signal?: AbortSignal;
  /** The longest body read; a longer one is cut off (declared by Content-Length, or as it streams). */
  readonly maxResponseBytes: number;
}

export async function attemptOnce(
  fetchFn: typeof fetch,
  url: string,
  init: Omit<RequestInit, 'signal'>,
  limits: AttemptLimits,
  clock: () => number,
): Promise<AttemptOutcome> {
  const startedMs = clock();
  const timeoutReason = limits.isCallDeadline ? 'deadline' : 'attempt-timeout';
  const remainingMs = limits.abortAtMs - startedMs;
  if (remainingMs <= 0 || limits.signal?.aborted) {
    const reason = limits.signal?.aborted ? 'aborted' : timeoutReason;
    return { kind: 'failure', reason, sent: false, error: failureText(reason, remainingMs), latencyMs: 0 };
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timeoutReason), remainingMs);
  const onCallerAbort = () => controller.abort('aborted');
  limits.signal?.addEventListener('abort', onCallerAbort, { once: true });
  try {
    // A redirect is an answer, never followed: following it would send the request (and its
    // credentials) to wherever the Location points, outside the checked URL.
    const response = await fetchFn(url, { ...init, redirect: 'manual', signal: controller.signal });
    // A HEAD answer has no body, whatever its Content-Length says (the size of the GET's).
    const read =
      init.method?.toUpperCase() === 'HEAD'
        ? await noBody(response)
        : await readBody(response, limits.maxResponseBytes);
    return {
      kind: 'response',
      status: response.status,
      headers: response.headers,
      ...read,
      latencyMs: clock() - startedMs,
    };
  } catch (error) {
    const latencyMs = clock() - startedMs;
    if (controller.signal.aborted) {
      const reason = controller.signal.reason === 'aborted' ? 'aborted' : timeoutReason;
      return { kind: 'failure', reason, sent: true, error: failureText(reason, remainingMs), latencyMs };
    }
    const code = errorCode(error);
    return {
      kind: 'failure',
      reason: 'network',
      sent: code === undefined ? !isRequestBuildError(error) : !NOT_SENT_CODES.has(code),
      error: `network error${code ? ` ${code}` : ''}: ${error instanceof Error ? error.message : String(error)}`,
      latencyMs,
    };
  } finally {
    clearTimeout(timer);
    limits.signal?.removeEventListener('abort', onCallerAbort);
  }
}

function failureText(reason: 'deadline' | 'attempt-timeout' | 'aborted', remainingMs: number): string {
  if (reason === 'aborted') return 'aborted by the caller';
  const budget = Math.max(0, Math.round(remainingMs));
  return reason === 'deadline'
    ? `aborted at the call deadline (${budget} ms were left)`
    : `no answer within the request timeout (${budget} ms)`;
}

interface BodyRead {
  readonly body: unknown;
  readonly bodyBytes: number;
  readonly tooLarge: boolean;
}

async function noBody(response: Response): Promise<BodyRead> {
  await response.body?.cancel().catch(() => undefined);
  return { body: undefined, bodyBytes: 0, tooLarge: false };
}

/**
 * JSON when it parses, text otherwise, undefined when empty; read chunk by chunk up to
 * `maxBytes`, so an answer over the cap is refused without holding it: when Content-Length
 * says so before a byte is read, or at the chunk that crosses the cap (a streamed answer with
 * no length). Cancelling the stream closes the connection; the rest is never downloaded.
 */
async function readBody(response: Response, maxBytes: number): Promise<BodyRead> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    return { body: undefined, bodyBytes: 0, tooLarge: true };
  }
  const reader = response.body?.getReader();
  if (!reader) return { body: undefined, bodyBytes: 0, tooLarge: false };
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel().catch(() => undefined);
      return { body: undefined, bodyBytes: bytes, tooLarge: true };
    }
    chunks.push(value);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text === '') return { body: undefined, bodyBytes: 0, tooLarge: false };
  try {
    return { body: JSON.parse(text), bodyBytes: bytes, tooLarge: false };
  } catch {
    return { body: text, bodyBytes: bytes, tooLarge: false };
  }
}

/**
 * A TypeError of its own (no cause) is fetch refusing to build the request (an invalid header
 * value, an invalid URL): nothing was sent. A transport failure is `fetch failed` with a cause.
 */
function isRequestBuildError(error: unknown): boolean {
  // By name, not instanceof: fetch's errors may come from another realm (a test VM).
  const named = (error as { name?: unknown } | null)?.name === 'TypeError';
  return named && (error as { cause?: unknown }).cause === undefined;
}

/** undici puts the system error in `cause`; Node's own errors carry `code` directly. */
function errorCode(error: unknown): string | undefined {
  for (const candidate of [error, (error as { cause?: unknown } | null)?.cause]) {
    const code = (candidate as { code?: unknown } | null | undefined)?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
