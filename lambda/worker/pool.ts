/**
 * The bounded pool one worker invocation runs its batch through. Reserved concurrency 1
 * bounds the Lambda environments, not the calls: inside one invocation at most `limit`
 * record pipelines run at once, and every one of them still acquires before it calls the
 * vendor, so the buckets decide what actually runs (docs/worker.md, "The pool").
 *
 * Items start in the order given. Before each start `canStart()` is asked; once it says no
 * (the time left cannot fit a vendor call) no item starts any more and every remaining one is
 * handed to `skip` instead, in order. `run` and `skip` must not throw: the caller turns a
 * failure into its batch item failure.
 */
export interface PoolPlan<T> {
  readonly items: readonly T[];
  readonly limit: number;
  canStart(): boolean;
  run(item: T): Promise<void>;
  skip(item: T): Promise<void>;
}

export async function runPool<T>(plan: PoolPlan<T>): Promise<void> {
  if (!Number.isInteger(plan.limit) || plan.limit < 1) {
    throw new RangeError(`the pool needs a whole number of slots ≥ 1 (got ${plan.limit})`);
  }
  let next = 0;
  let stopped = false;
  const lane = async (): Promise<void> => {
    while (next < plan.items.length) {
      const item = plan.items[next] as T;
      next += 1;
      if (!stopped && !plan.canStart()) stopped = true;
      await (stopped ? plan.skip(item) : plan.run(item));
    }
  };
  const lanes = Math.min(plan.limit, plan.items.length);
  await Promise.all(Array.from({ length: lanes }, lane));
}
