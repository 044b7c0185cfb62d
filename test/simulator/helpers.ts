/** Plain HTTP calls to the simulator, as a vendor client would make them. */
export interface Answer {
  readonly status: number;
  readonly body: unknown;
  readonly headers: Headers;
}

export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: {
    body?: unknown;
    key?: string | null;
    headers?: Record<string, string>;
    signal?: AbortSignal;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', ...options.headers };
  const key = options.key === undefined ? 'local-dev-key' : options.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  const response = await fetch(baseUrl + path, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
    signal: options.signal,
  });
  const text = await response.text();
  return {
    status: response.status,
    body: text === '' ? undefined : JSON.parse(text),
    headers: response.headers,
  };
}

/** Sequential calls: the order of answers is the order of requests. */
export async function statuses(count: number, next: (index: number) => Promise<Answer>): Promise<number[]> {
  const result: number[] = [];
  for (let index = 0; index < count; index += 1) result.push((await next(index)).status);
  return result;
}

export const chat = (content: string, maxTokens: number) => ({
  model: 'gpt-4o-mini',
  max_tokens: maxTokens,
  messages: [{ role: 'user', content }],
});
