/**
 * The reconciler's schedule, scaled down: EventBridge Scheduler invokes it at most every
 * minute on AWS; locally every few seconds, so a leaked lease comes back within a short run.
 * One run at a time (reserved concurrency 1 there too). A failure is reported once per
 * distinct message, not on every tick.
 */
export function startReconcilerSchedule(options: {
  readonly everySeconds: number;
  /** One reconciler invocation; answers the leases it gave back. */
  readonly reconcile: () => Promise<number>;
  readonly onRestored: (restored: number) => void;
  readonly onFirstFailure: (message: string) => void;
}): { stop(): Promise<void>; readonly failures: () => number } {
  let running: Promise<void> | undefined;
  let failures = 0;
  const seen = new Set<string>();
  const timer = setInterval(() => {
    if (running) return;
    running = options
      .reconcile()
      .then(options.onRestored, (error: unknown) => {
        failures += 1;
        // Item keys differ from run to run; the problem is the same.
        const message = (error instanceof Error ? error.message : String(error)).replace(
          /\S+#\S+/g,
          '<item>',
        );
        if (!seen.has(message)) {
          seen.add(message);
          options.onFirstFailure(error instanceof Error ? error.message : String(error));
        }
      })
      .finally(() => {
        running = undefined;
      });
  }, options.everySeconds * 1000);
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
    failures: () => failures,
  };
}
