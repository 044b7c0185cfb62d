/**
 * Fresh answers to safe, idempotent reads, kept per operation for its `cacheSeconds`, keyed
 * by method and path. A hit spends no vendor quota. In-memory, per Lambda environment: a
 * cold start begins empty, which only costs a call. Bounded twice, by entries and by the
 * bytes of the bodies it holds (as read from the vendor), so a few large answers cannot take
 * the function's memory: the oldest entries go first, and an answer larger than the whole
 * budget is not kept at all.
 */
export class ResponseCache<T> {
  private readonly entries = new Map<
    string,
    { readonly value: T; readonly expiresAtMs: number; readonly bytes: number }
  >();
  private heldBytes = 0;

  constructor(
    private readonly maxEntries = 500,
    private readonly maxBytes = DEFAULT_CACHE_MAX_BYTES,
  ) {}

  get(key: string, nowMs: number): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAtMs <= nowMs) {
      this.remove(key);
      return undefined;
    }
    return entry.value;
  }

  /** `bytes`: the size of the body the value holds, counted against the byte budget. */
  set(key: string, value: T, nowMs: number, ttlSeconds: number, bytes = 0): void {
    if (!(ttlSeconds > 0)) return;
    this.remove(key);
    if (bytes > this.maxBytes) return;
    // Map keeps insertion order: the first key is the oldest entry.
    while (this.entries.size >= this.maxEntries || this.heldBytes + bytes > this.maxBytes) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
    }
    this.entries.set(key, { value, expiresAtMs: nowMs + ttlSeconds * 1000, bytes });
    this.heldBytes += bytes;
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.heldBytes -= entry.bytes;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Body bytes held. */
  get bytes(): number {
    return this.heldBytes;
  }
}

/** 16 MiB: a few hundred typical JSON reads, a small share of the worker's memory. */
export const DEFAULT_CACHE_MAX_BYTES = 16 * 1024 * 1024;

export function cacheKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${path}`;
}
