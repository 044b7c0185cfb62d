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
      readonly body: unknown;
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
    const response = await fetchFn(url, { ...init, signal: controller.signal });
    const body = await readBody(response);
    return {
      kind: 'response',
      status: response.status,
      headers: response.headers,
      body,
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
      sent: code === undefined || !NOT_SENT_CODES.has(code),
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

/** JSON when it parses, text otherwise, undefined when empty. */
async function readBody(response: Response): Promise<unknown> {
  const text = await response.text();
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** undici puts the system error in `cause`; Node's own errors carry `code` directly. */
function errorCode(error: unknown): string | undefined {
  for (const candidate of [error, (error as { cause?: unknown } | null)?.cause]) {
    const code = (candidate as { code?: unknown } | null | undefined)?.code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}
