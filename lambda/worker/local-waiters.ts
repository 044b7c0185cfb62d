/**
 * Hand-off inside one worker environment. A record told `RetryIn` by a `concurrent` bucket
 * sleeps inline holding a pool slot but no vendor slot; the SDK's wait for a concurrent
 * bucket is only a guess (a release may come sooner). When another record of the same pool
 * releases a lease of that dimension, the first record waiting on it wakes at once and
 * acquires again, so a vendor that serves one call at a time is not left idle for the rest
 * of the guess. Each release wakes at most one waiter per dimension (the others would only
 * meet the same refusal). A waiter whose sleep ends first simply leaves the queue.
 */
export class LocalWaiters {
  private readonly waiting = new Map<string, Array<() => void>>();

  /** Sleeps `ms` with `sleep`, ending early when `wake(dimension)` hands this waiter a release. */
  async wait(dimension: string, ms: number, sleep: (ms: number) => Promise<void>): Promise<void> {
    let wakeUp: () => void = () => {};
    const woken = new Promise<void>((resolve) => {
      wakeUp = resolve;
    });
    const queue = this.waiting.get(dimension) ?? [];
    queue.push(wakeUp);
    this.waiting.set(dimension, queue);
    try {
      await Promise.race([sleep(ms), woken]);
    } finally {
      this.leave(dimension, wakeUp);
    }
  }

  /** A lease of `dimension` was released here: the longest waiter on it wakes. */
  wake(dimension: string): void {
    const first = this.waiting.get(dimension)?.shift();
    first?.();
  }

  /** Records waiting on `dimension` now. */
  waiters(dimension: string): number {
    return this.waiting.get(dimension)?.length ?? 0;
  }

  private leave(dimension: string, waiter: () => void): void {
    const queue = this.waiting.get(dimension);
    if (!queue) return;
    const index = queue.indexOf(waiter);
    if (index >= 0) queue.splice(index, 1);
    if (queue.length === 0) this.waiting.delete(dimension);
  }
}
