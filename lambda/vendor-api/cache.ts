/**
 * Fresh answers to safe, idempotent reads, kept per operation for its `cacheSeconds`, keyed
 * by method and path. A hit spends no vendor quota. In-memory, per Lambda environment: a
 * cold start begins empty, which only costs a call.
 */
export class ResponseCache<T> {
  private readonly entries = new Map<string, { readonly value: T; readonly expiresAtMs: number }>();

  constructor(private readonly maxEntries = 500) {}

  get(key: string, nowMs: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: T, nowMs: number, ttlSeconds: number): void {
    if (!(ttlSeconds > 0)) return;
    this.entries.delete(key);
    // Map keeps insertion order: the first key is the oldest entry.
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    this.entries.set(key, { value, expiresAtMs: nowMs + ttlSeconds * 1000 });
  }

  get size(): number {
    return this.entries.size;
  }
}

export function cacheKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}
