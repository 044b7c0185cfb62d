import { backoffDelayMs } from '../backoff';
import { OUTCOME_HEADERS } from '../producer/outcome';
import type { VendorSettings } from '../worker-settings';
import { type AttemptOutcome, attemptOnce } from './attempt';
import { cacheKey, DEFAULT_CACHE_MAX_BYTES, ResponseCache } from './cache';
import { classifyStatus, type ResponseClass } from './classify';
import { parseRetryAfter, type RateLimitHeaders, readRateLimitHeaders } from './headers';
import { OutsideBaseError, type VendorUrl, vendorUrl } from './url';
import { warmUpFetch } from './warm-up';

/** The answer to one logical call, after the client's own retries. Never thrown: a value. */
export interface VendorCallResult {
  class: ResponseClass;
  status?: number;
  /** Parsed JSON, or text when the body is not JSON. */
  body?: unknown;
  /** The response headers a product's outcome carries (`OUTCOME_HEADERS`, lowercase), when sent. */
  headers?: Record<string, string>;
  retryAfterSeconds?: number;
  rateLimit: RateLimitHeaders;
  /** The whole logical call, retries and backoff included. */
  latencyMs: number;
  /** HTTP exchanges made (0 for a cache hit). */
  attempts: number;
  cached: boolean;
  /** A request that is not safe to repeat may have reached the vendor without an answer. */
  outcomeUnknown: boolean;
  error?: string;
}

export interface VendorCall {
  /** Configured operation name (for caching, `idempotent` and measurements). */
  readonly operation?: string;
  readonly method: string;
  /** Relative to the base URL, already checked by `resolveRequest`. */
  readonly path: string;
  readonly body?: unknown;
  /** Sent in `settings.idempotencyHeader`; makes a POST safe to repeat. */
  readonly idempotencyKey?: string;
  /** Absolute epoch ms: the slot deadline. */
  readonly deadlineMs: number;
  readonly signal?: AbortSignal;
  /**
   * Asked before every repeat of the request (after a 5xx, 408/425, a timeout, a network error or
   * a refreshed key): every request that reaches the vendor must be granted, so the worker
   * acquires again here. `false` ends the call with the last answer, unrepeated.
   * @default every repeat runs under the first grant
   */
  readonly beforeRepeat?: () => Promise<boolean>;
  /** Retries of this call on its own. @default settings.policy.maxVendorRetries (the circuit's probe makes one) */
  readonly maxRetries?: number;
  /**
   * For a request safe to repeat: an attempt still unanswered after this long has hung; it is
   * cut (an attempt timeout) and repeated like any failed attempt, granted again. Never longer
   * than `settings.requestTimeoutMs`; ignored for a request not safe to repeat, whose cut
   * attempt would have an unknown outcome. The worker learns it from the vendor's latency.
   * @default settings.requestTimeoutMs
   */
  readonly hangTimeoutMs?: number;
}

export interface VendorMeasure {
  readonly operation: string;
  readonly class: ResponseClass;
  readonly latencyMs: number;
}

export interface VendorClientOptions {
  readonly settings: VendorSettings;
  /** The current API key (e.g. `SecretApiKeyProvider.get`). */
  readonly apiKey: () => Promise<string>;
  /** Re-reads the key after a 401 (e.g. a rotated secret); called at most once per call. */
  readonly refreshApiKey?: () => Promise<string>;
  readonly fetch?: typeof fetch;
  readonly clock?: () => number;
  readonly random?: () => number;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Called after every HTTP exchange and every cache hit, for per-operation metrics. */
  readonly onMeasure?: (measure: VendorMeasure) => void;
  /** Body bytes the read cache may hold. @default DEFAULT_CACHE_MAX_BYTES (16 MiB) */
  readonly cacheMaxBytes?: number;
}

/** How a dead-letter detail starts when the answer was over `vendor.maxResponseBytes`. */
export const RESPONSE_TOO_LARGE = 'response_too_large';

/** Safe to repeat whatever the request: the vendor did not process it (RFC 9110, RFC 8470). */
const NOT_PROCESSED_STATUSES = new Set([408, 425]);
const SAFE_METHODS = new Set(['GET', 'HEAD']);

export class VendorClient {
  private readonly cache: ResponseCache<VendorCallResult>;
  private readonly fetchFn: typeof fetch;
  private readonly clock: () => number;
  private readonly random: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly baseUrl: string;

  constructor(private readonly options: VendorClientOptions) {
    this.fetchFn = options.fetch ?? fetch;
    this.clock = options.clock ?? Date.now;
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? sleepWithSignal;
    this.baseUrl = options.settings.baseUrl.replace(/\/+$/, '');
    this.cache = new ResponseCache(500, options.cacheMaxBytes ?? DEFAULT_CACHE_MAX_BYTES);
  }

  /**
   * Readies Node's `fetch` (its HTTP stack loaded, the vendor's host resolved) without a request
   * to the vendor, so the first call is not slower than the rest (warm-up.ts). Once per cold start.
   */
  warmUp(): Promise<void> {
    return warmUpFetch(this.baseUrl);
  }

  /**
   * One logical call: repeats 408/425 always, and 5xx, timeouts and network errors only when
   * safe (GET/HEAD, an `idempotent` operation, or an idempotency key), with full-jitter
   * backoff within `policy.maxVendorRetries`; refreshes the key once on 401; hands 429, 503
   * and 409 back at once (the worker's decision tree owns them); aborts at `deadlineMs`.
   */
  async call(request: VendorCall): Promise<VendorCallResult> {
    const hit = this.cachedResponse(request);
    if (hit) return hit;
    const { settings } = this.options;
    const operation = this.operationName(request);
    const target = this.target(request);
    if ('refused' in target) return target.refused;
    const safe = this.isSafeToRepeat(request);
    const startedMs = this.clock();
    let key = await this.options.apiKey();
    let refreshed = false;
    let retries = 0;
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const outcome = await this.exchange(request, target, key, safe);
      const result = this.toResult(outcome, safe, attempts, startedMs);
      this.options.onMeasure?.({ operation, class: result.class, latencyMs: outcome.latencyMs });
      if (result.status === 401 && !refreshed && this.options.refreshApiKey) {
        // A refused key never reached the operation, so repeating is safe even for a POST.
        refreshed = true;
        key = await this.options.refreshApiKey();
        if (!(await this.repeatGranted(request))) return result;
        continue;
      }
      const repeatable =
        outcome.kind === 'response'
          ? this.mayRepeatStatus(outcome.status, safe)
          : this.mayRepeatFailure(outcome, safe);
      if (repeatable && retries < (request.maxRetries ?? settings.policy.maxVendorRetries)) {
        const delayMs = backoffDelayMs(
          retries,
          { baseMs: settings.policy.backoffBaseMs, maxMs: settings.policy.backoffMaxMs },
          this.random,
        );
        if (this.clock() + delayMs < request.deadlineMs && !request.signal?.aborted) {
          retries += 1;
          await this.sleep(delayMs, request.signal);
          if (!(await this.repeatGranted(request))) return result;
          continue;
        }
      }
      if (result.class === 'success' && outcome.kind === 'response') {
        this.remember(request, result, outcome.bodyBytes);
      }
      return result;
    }
  }

  private async repeatGranted(request: VendorCall): Promise<boolean> {
    return request.beforeRepeat ? request.beforeRepeat() : true;
  }

  /** A fresh cached answer (cached: true) for a cacheable read, or undefined: the worker skips acquire on a hit. */
  cachedResponse(request: Pick<VendorCall, 'operation' | 'method' | 'path'>): VendorCallResult | undefined {
    if (this.cacheSeconds(request) <= 0) return undefined;
    const hit = this.cache.get(cacheKey(request.method, request.path), this.clock());
    if (!hit) return undefined;
    this.options.onMeasure?.({ operation: this.operationName(request), class: hit.class, latencyMs: 0 });
    return { ...hit, cached: true, attempts: 0, latencyMs: 0 };
  }

  /**
   * The URL to call, built and checked by the URL parser (url.ts) as `resolveRequest` did: a
   * path that reaches here unchecked and leaves the base URL is refused, never sent.
   */
  private target(request: VendorCall): VendorUrl | { refused: VendorCallResult } {
    try {
      return vendorUrl(this.baseUrl, request.path);
    } catch (error) {
      if (!(error instanceof OutsideBaseError)) throw error;
      return {
        refused: {
          class: 'rejected',
          rateLimit: {},
          latencyMs: 0,
          attempts: 0,
          cached: false,
          outcomeUnknown: false,
          error: `not sent: ${error.message}`,
        },
      };
    }
  }

  private async exchange(
    request: VendorCall,
    target: VendorUrl,
    key: string,
    safe: boolean,
  ): Promise<AttemptOutcome> {
    const { settings } = this.options;
    const headers: Record<string, string> = {
      [settings.authHeader]: settings.authScheme ? `${settings.authScheme} ${key}` : key,
      accept: 'application/json',
    };
    if (request.idempotencyKey !== undefined) headers[settings.idempotencyHeader] = request.idempotencyKey;
    let body: string | undefined;
    if (request.body !== undefined && request.method !== 'GET' && request.method !== 'HEAD') {
      headers['content-type'] = 'application/json';
      body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body);
    }
    const hangMs = safe ? request.hangTimeoutMs : undefined;
    const capMs =
      this.clock() +
      (hangMs !== undefined && hangMs > 0
        ? Math.min(hangMs, settings.requestTimeoutMs)
        : settings.requestTimeoutMs);
    const outcome = await attemptOnce(
      this.fetchFn,
      target.href,
      { method: request.method, headers, body },
      {
        abortAtMs: Math.min(capMs, request.deadlineMs),
        isCallDeadline: request.deadlineMs <= capMs,
        signal: request.signal,
        maxResponseBytes: settings.maxResponseBytes,
      },
      this.clock,
    );
    // fetch quotes an invalid header value in its error: the key never goes into a detail or a log.
    return outcome.kind === 'failure' ? { ...outcome, error: redactSecret(outcome.error, key) } : outcome;
  }

  private toResult(
    outcome: AttemptOutcome,
    safe: boolean,
    attempts: number,
    startedMs: number,
  ): VendorCallResult {
    const latencyMs = this.clock() - startedMs;
    if (outcome.kind === 'failure') {
      return {
        class: 'transient',
        rateLimit: {},
        latencyMs,
        attempts,
        cached: false,
        outcomeUnknown: outcome.sent && !safe,
        error: outcome.error,
      };
    }
    const answered = classifyStatus(outcome.status, this.options.settings);
    const problem = answerProblem(outcome, this.options.settings.maxResponseBytes);
    // An answer whose body matters (2xx, 3xx) but cannot be kept is refused; a 429 or 5xx is
    // still what its status says: its body is only dropped.
    const responseClass = problem !== undefined && outcome.status < 400 ? 'rejected' : answered;
    const retryAfterSeconds = parseRetryAfter(
      outcome.headers.get('retry-after'),
      this.clock(),
      this.options.settings.policy.maxRetryAfterSeconds,
    );
    return {
      class: responseClass,
      status: outcome.status,
      ...(outcome.body === undefined ? {} : { body: outcome.body }),
      headers: outcomeHeaders(outcome.headers),
      ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
      rateLimit: readRateLimitHeaders(outcome.headers, this.clock()),
      latencyMs,
      attempts,
      cached: false,
      // A 500/502/504 may come after the vendor acted: unknown unless the request is safe to repeat.
      outcomeUnknown: responseClass === 'transient' && !NOT_PROCESSED_STATUSES.has(outcome.status) && !safe,
      ...(problem === undefined ? {} : { error: problem }),
    };
  }

  private mayRepeatStatus(status: number, safe: boolean): boolean {
    if (NOT_PROCESSED_STATUSES.has(status)) return true;
    return safe && classifyStatus(status, this.options.settings) === 'transient';
  }

  private mayRepeatFailure(outcome: Extract<AttemptOutcome, { kind: 'failure' }>, safe: boolean): boolean {
    // Past the call deadline or cancelled by the caller: there is no time to repeat in.
    if (outcome.reason === 'deadline' || outcome.reason === 'aborted') return false;
    return safe || !outcome.sent;
  }

  private isSafeToRepeat(request: VendorCall): boolean {
    if (SAFE_METHODS.has(request.method.toUpperCase())) return true;
    if (request.idempotencyKey !== undefined) return true;
    return (
      request.operation !== undefined &&
      this.options.settings.operations[request.operation]?.idempotent === true
    );
  }

  private cacheSeconds(request: Pick<VendorCall, 'operation' | 'method'>): number {
    if (request.operation === undefined || !SAFE_METHODS.has(request.method.toUpperCase())) return 0;
    return this.options.settings.operations[request.operation]?.cacheSeconds ?? 0;
  }

  private remember(request: VendorCall, result: VendorCallResult, bodyBytes: number): void {
    const key = cacheKey(request.method, request.path);
    this.cache.set(key, result, this.clock(), this.cacheSeconds(request), bodyBytes);
  }

  private operationName(request: Pick<VendorCall, 'operation' | 'method'>): string {
    return request.operation ?? `direct ${request.method.toUpperCase()}`;
  }
}

/**
 * What makes an answer unusable whatever its status: a body over the cap (never kept), or a
 * redirect, which is never followed (its Location could be any host; following it would send
 * the request and its credentials there). Undefined for an ordinary answer.
 */
function answerProblem(
  outcome: Extract<AttemptOutcome, { kind: 'response' }>,
  maxResponseBytes: number,
): string | undefined {
  if (outcome.status >= 300 && outcome.status < 400) {
    const location = outcome.headers.get('location');
    const where = location === null ? 'no Location' : `Location ${JSON.stringify(location.slice(0, 300))}`;
    return `redirect not followed (${where})`;
  }
  if (outcome.tooLarge) {
    return `${RESPONSE_TOO_LARGE}: the answer's body is over vendor.maxResponseBytes (${maxResponseBytes} bytes); it was not read to the end and not kept`;
  }
  return undefined;
}

/**
 * `text` with the secret taken out: whole, trimmed (fetch trims a header value before checking
 * it), and each run of it between characters a header cannot carry, so no part of the key long
 * enough to matter survives in an error text.
 */
export function redactSecret(text: string, secret: string): string {
  if (secret === '') return text;
  const pieces = [secret, secret.trim(), ...secret.split(/[^\x21-\x7e]+/)].filter(
    (piece) => piece.length >= 4,
  );
  let redacted = text;
  for (const piece of pieces.sort((a, b) => b.length - a.length)) {
    redacted = redacted.split(piece).join('[redacted]');
  }
  return redacted;
}

function outcomeHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of OUTCOME_HEADERS) {
    const value = headers.get(name);
    if (value !== null) kept[name] = value;
  }
  return kept;
}

/** A real sleep that ends early (without throwing) when the signal aborts. */
export function sleepWithSignal(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
