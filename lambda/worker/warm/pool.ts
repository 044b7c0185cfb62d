/**
 * The bounded pool one worker invocation runs its batch through. Reserved concurrency 1
 * bounds the Lambda environments, not the calls: inside one invocation at most `limit()`
 * record pipelines run at once, and every one of them still acquires before it calls the
 * vendor, so the buckets decide what actually runs (docs/worker.md, "The pool").
 *
 * `limit` is read again whenever a slot frees (the pool's size learns from the vendor's
 * latency, pool-size.ts): a larger limit starts more items at once, a smaller one lets the
 * running ones finish and starts none until they are below it. Items start in the order given.
 * Before each start `canStart()` is asked; once it says no (the time left cannot fit a vendor
 * call) no item starts any more and every remaining one is handed to `skip` instead, in order.
 * `run` and `skip` must not throw: the caller turns a failure into its batch item failure
 * (should one throw anyway, the pool finishes the others and then rejects with it).
 */
export interface PoolPlan<T> {
  readonly items: readonly T[];
  readonly limit: number | (() => number);
  canStart(): boolean;
  run(item: T): Promise<void>;
  skip(item: T): Promise<void>;
}

export async function runPool<T>(plan: PoolPlan<T>): Promise<void> {
  const limit = () => {
    const slots = typeof plan.limit === 'function' ? plan.limit() : plan.limit;
    if (!Number.isInteger(slots) || slots < 1) {
      throw new RangeError(`the pool needs a whole number of slots ≥ 1 (got ${slots})`);
    }
    return slots;
  };
  limit();
  await new Promise<void>((resolve, reject) => {
    let next = 0;
    let running = 0;
    let stopped = false;
    let failure: { error: unknown } | undefined;
    const pump = () => {
      try {
        while (next < plan.items.length && running < (stopped ? Number.POSITIVE_INFINITY : limit())) {
          const item = plan.items[next] as T;
          next += 1;
          if (!stopped && !plan.canStart()) stopped = true;
          running += 1;
          (stopped ? plan.skip(item) : plan.run(item)).then(settle, (error: unknown) => {
            failure ??= { error };
            settle();
          });
        }
      } catch (error) {
        failure ??= { error };
        next = plan.items.length;
      }
      if (running === 0 && next >= plan.items.length) {
        if (failure) reject(failure.error);
        else resolve();
      }
    };
    const settle = () => {
      running -= 1;
      pump();
    };
    pump();
  });
}
