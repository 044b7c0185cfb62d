import { formatGoDuration, retryAfterHeader, SimulatorBucket } from './bucket';
import { type ProfileBehaviour, routeFor, type SimRequest } from './routes';
import type { SimulatorLimits } from './types';

/** Share of `max_tokens` the simulated model writes: usage stays below a client's max_tokens estimate. */
const COMPLETION_SHARE = 0.75;
const DEFAULT_MAX_TOKENS = 16;

/**
 * Usage of one chat completion, as the response's `usage` reports it: prompt tokens are
 * the characters of the messages / 4 (OpenAI's rule of thumb), completion tokens 3/4 of
 * `max_tokens`. The limit is charged this total, so a client that settles on `usage` stays
 * in step with the server.
 */
export function tokenUsage(
  body: unknown,
): { prompt_tokens: number; completion_tokens: number; total_tokens: number } | undefined {
  const request = body as { messages?: unknown; max_tokens?: unknown } | null;
  if (!request || !Array.isArray(request.messages) || request.messages.length === 0) return undefined;
  const characters = request.messages.reduce<number>((sum, message) => {
    const content = (message as { content?: unknown } | null)?.content;
    return sum + (typeof content === 'string' ? content.length : 0);
  }, 0);
  const maxTokens =
    typeof request.max_tokens === 'number' && request.max_tokens > 0
      ? Math.floor(request.max_tokens)
      : DEFAULT_MAX_TOKENS;
  const prompt = Math.max(1, Math.ceil(characters / 4));
  const completion = Math.max(1, Math.ceil(maxTokens * COMPLETION_SHARE));
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** Requests and tokens per minute, both continuously refilled, reported in `x-ratelimit-*` on every answer. */
export function openai(limits: SimulatorLimits, graceMs: number): ProfileBehaviour {
  const requests = new SimulatorBucket(limits.requestsPerMinute, 60);
  const tokens = new SimulatorBucket(limits.tokensPerMinute, 60);
  const headers = (nowMs: number) => ({
    'x-ratelimit-limit-requests': String(requests.capacity),
    'x-ratelimit-remaining-requests': String(requests.remaining(nowMs)),
    'x-ratelimit-reset-requests': formatGoDuration(requests.resetSeconds(nowMs)),
    'x-ratelimit-limit-tokens': String(tokens.capacity),
    'x-ratelimit-remaining-tokens': String(tokens.remaining(nowMs)),
    'x-ratelimit-reset-tokens': formatGoDuration(tokens.resetSeconds(nowMs)),
  });
  return {
    route: (method, path) => routeFor('openai', method, path),
    admit(request: SimRequest, _routed, nowMs) {
      const usage = tokenUsage(request.body);
      if (!usage) {
        return {
          refusal: {
            status: 400,
            body: {
              error: { message: "'messages' is a required non-empty array", type: 'invalid_request_error' },
            },
          },
        };
      }
      const requestsShort = !requests.fits(1, nowMs, graceMs);
      const tokensShort = !tokens.fits(usage.total_tokens, nowMs, graceMs);
      if (requestsShort || tokensShort) {
        const kind = requestsShort ? 'requests' : 'tokens';
        const wait = Math.max(
          requestsShort ? requests.waitSeconds(1, nowMs) : 0,
          tokensShort ? tokens.waitSeconds(usage.total_tokens, nowMs) : 0,
        );
        const retry: Record<string, string> = Number.isFinite(wait)
          ? { 'retry-after': retryAfterHeader(wait) }
          : {};
        return {
          refusal: {
            status: 429,
            body: {
              error: {
                message: `Rate limit reached for ${kind} per minute`,
                type: kind,
                code: 'rate_limit_exceeded',
              },
            },
            headers: { ...headers(nowMs), ...retry },
          },
        };
      }
      requests.take(1, nowMs);
      tokens.take(usage.total_tokens, nowMs);
      return { headers: headers(nowMs) };
    },
    answer(request) {
      return {
        status: 200,
        body: {
          object: 'chat.completion',
          choices: [
            { index: 0, message: { role: 'assistant', content: 'Simulated answer.' }, finish_reason: 'stop' },
          ],
          usage: tokenUsage(request.body),
        },
      };
    },
    release() {},
  };
}
