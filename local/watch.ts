import { SendMessageCommand } from '@aws-sdk/client-sqs';
import type { ChaosPlan } from './chaos';
import type { EventSourcePoller } from './poller';
import type { ProgressPrinter } from './progress';
import { type LocalResources, queueDepth } from './stack';
import type { Tally } from './tally';
import type { WiredHandlers } from './wiring-types';

/** A run that is still not drained after this long is stopped and its leftovers reported lost. */
export const MAX_RUN_SECONDS = 600;
const TICK_MS = 250;

/**
 * Draws progress every tick until the work queue is drained (nothing visible, in flight or
 * delayed, no invocation running) twice in a row, the run is interrupted, or MAX_RUN_SECONDS
 * pass. Under --chaos it also delivers the first completed messages a second time.
 */
export async function watchUntilDrained(options: {
  readonly stack: LocalResources;
  readonly poller: EventSourcePoller;
  readonly wired: WiredHandlers;
  readonly tally: Tally;
  readonly printer: ProgressPrinter;
  readonly total: number;
  /** Dimensions whose levels the progress shows (keyed definitions have no single level). */
  readonly dimensions: readonly string[];
  readonly startedMs: number;
  readonly now: () => number;
  readonly signal?: AbortSignal;
  readonly chaos?: { readonly plan: ChaosPlan; readonly bodies: ReadonlyMap<string, string> };
}): Promise<void> {
  const { stack, poller, tally, now, startedMs } = options;
  const duplicates = options.chaos ? duplicateSender(stack, tally, options.chaos) : undefined;
  let idleChecks = 0;
  while (!options.signal?.aborted && now() - startedMs < MAX_RUN_SECONDS * 1000) {
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    const [work, dlq, buckets] = await Promise.all([
      queueDepth(stack.sqs, stack.queueUrl),
      queueDepth(stack.sqs, stack.dlqUrl),
      options.wired.snapshots(options.dimensions).catch(() => []),
    ]);
    const duplicatesDone = duplicates ? await duplicates.send() : true;
    const queued = work.visible + work.inFlight + work.delayed;
    options.printer.frame({
      total: options.total,
      completed: tally.completions.size,
      deadLettered: dlq.visible + dlq.inFlight,
      requeued: tally.requeues,
      inFlight: poller.inFlight,
      queued,
      delayed: work.delayed,
      refusals: tally.refusals,
      vendorCalls: tally.vendorCalls,
      buckets,
      elapsedMs: now() - startedMs,
    });
    idleChecks = queued === 0 && poller.inFlight === 0 && duplicatesDone ? idleChecks + 1 : 0;
    // Two quiet checks in a row: a requeue sent at the end of the last invocation has landed.
    if (idleChecks >= 2) return;
  }
}

/**
 * Re-sends the body of each of the first `plan.duplicates` completed messages, same id, as
 * SQS's at-least-once delivery may: the worker must acknowledge it without a vendor call.
 * Answers true once every planned duplicate is sent (or nothing completed to duplicate).
 */
function duplicateSender(
  stack: LocalResources,
  tally: Tally,
  chaos: { readonly plan: ChaosPlan; readonly bodies: ReadonlyMap<string, string> },
): { send(): Promise<boolean> } {
  const sent = new Set<string>();
  return {
    async send() {
      for (const id of tally.completions.keys()) {
        if (sent.size >= chaos.plan.duplicates) break;
        const body = chaos.bodies.get(id);
        if (sent.has(id) || body === undefined) continue;
        await stack.sqs.send(new SendMessageCommand({ QueueUrl: stack.queueUrl, MessageBody: body }));
        tally.chaosInjected('message delivered twice');
        sent.add(id);
      }
      return sent.size >= chaos.plan.duplicates || tally.completions.size === 0;
    },
  };
}
