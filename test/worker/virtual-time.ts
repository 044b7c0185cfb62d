import type { SteppedClock } from './worker-wiring';

interface Timer {
  readonly atMs: number;
  readonly wake: () => void;
}

/**
 * Time for the memory harness when records run side by side: a sleep ends when the clock
 * reaches its end, and the clock moves on only when nothing else can: no vendor call is in
 * flight (real I/O on loopback) and every promise that could run has run. It then jumps to the
 * earliest sleep's end. A record waiting for a slot so waits while the holder's call is
 * answered, as it would in real time, yet no test waits for real time.
 */
export class VirtualTime implements SteppedClock {
  private nowMs: number;
  private timers: Timer[] = [];
  private inFlight = 0;
  private pumping = false;

  constructor(startMs = 1_700_000_000_000) {
    this.nowMs = startMs;
  }

  readonly clock = (): number => this.nowMs;

  readonly advance = (ms: number): void => {
    this.nowMs += ms;
    this.pump();
  };

  readonly sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
    new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      const timer: Timer = {
        atMs: this.nowMs + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((each) => each !== timer);
        resolve();
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.pump();
    });

  /** The fetch, counted while a call is in flight (its body read too), so time waits for it. */
  track(inner: typeof fetch): typeof fetch {
    return async (input, init) => {
      this.inFlight += 1;
      try {
        const response = await inner(input, init);
        const body = await response.arrayBuffer();
        return new Response(response.status === 204 || response.status === 304 ? null : body, {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      } finally {
        this.inFlight -= 1;
        this.pump();
      }
    };
  }

  /** After everything runnable has run (a macrotask later), wakes the earliest sleepers. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    setImmediate(() => {
      this.pumping = false;
      if (this.inFlight > 0 || this.timers.length === 0) return;
      const atMs = Math.min(...this.timers.map((timer) => timer.atMs));
      this.nowMs = Math.max(this.nowMs, atMs);
      const due = this.timers.filter((timer) => timer.atMs <= this.nowMs);
      this.timers = this.timers.filter((timer) => timer.atMs > this.nowMs);
      for (const timer of due) timer.wake();
    });
  }
}
