import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { type LocalResources, type QueueDepth, queueDepth } from '../aws/stack';
import type { WiredHandlers } from '../aws/wiring-types';
import type { ProgressPrinter } from '../cli/progress';
import type { EventSourcePoller } from '../event-source/poller';
import type { RunEnd } from '../report/report';
import type { Tally } from '../report/tally';
import type { TimelineLook } from '../timeline/recorder';
import type { ChaosPlan } from './chaos';
import { drainDeadLetters } from './dlq';

const TICK_MS = 250;

/**
 * Draws progress every tick until the work queue is drained (nothing visible, in flight or
 * delayed, no invocation running) twice in a row, the run is interrupted, or `maxRunSeconds`
 * pass (`npm start -- --max-run-seconds`). With `serve` it never ends by itself: it reads the
 * DLQ as it goes, so each dead letter is shown as it arrives. Under --chaos it also delivers
 * the first completed messages a second time.
 */
export async function watchUntilDrained(options: {
  readonly stack: LocalResources;
  readonly poller: EventSourcePoller;
  readonly wired: WiredHandlers;
  readonly tally: Tally;
  readonly printer: ProgressPrinter;
  /** The number of messages the run knows of (the serve mode adds producers' messages as they arrive). */
  readonly total: () => number;
  readonly maxRunSeconds: number;
  readonly serve?: boolean;
  /** Dimensions whose levels the progress shows (keyed definitions have no single level). */
  readonly dimensions: readonly string[];
  readonly startedMs: number;
  readonly now: () => number;
  readonly signal?: AbortSignal;
  readonly chaos?: { readonly plan: ChaosPlan; readonly bodies: ReadonlyMap<string, string> };
  /** Told of each look at the queues and buckets (the report page's timeline). */
  readonly onLook?: (look: TimelineLook) => void;
}): Promise<RunEnd> {
  const { stack, poller, tally, now, startedMs } = options;
  const duplicates = options.chaos ? duplicateSender(stack, tally, options.chaos) : undefined;
  let idleChecks = 0;
  let lastDone = 0;
  let lastProgressMs = 0;
  for (;;) {
    if (options.signal?.aborted) return 'interrupted';
    if (!options.serve && now() - startedMs >= options.maxRunSeconds * 1000) return 'time-limit';
    await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    if (options.serve) {
      for (const letter of await drainDeadLetters(stack.sqs, stack.dlqUrl, { withDetail: true }))
        tally.deadLetter(letter.id, letter.reason, letter.detail);
    }
    const [work, dlq, buckets] = await Promise.all([
      queueDepth(stack.sqs, stack.queueUrl),
      queueDepth(stack.sqs, stack.dlqUrl),
      options.wired.snapshots(options.dimensions).catch(() => []),
    ]);
    const duplicatesDone = duplicates ? await duplicates.send() : true;
    const waiting = waitingOnQueue(work, poller.inFlight);
    const elapsedMs = now() - startedMs;
    const deadLettered = tally.deadLettered.size + dlq.visible + dlq.inFlight;
    const done = tally.completions.size + deadLettered;
    if (done > lastDone) {
      lastDone = done;
      lastProgressMs = elapsedMs;
    }
    const failure = tally.lastVendorFailure;
    options.printer.frame({
      total: options.total(),
      completed: tally.completions.size,
      deadLettered,
      requeued: tally.requeues,
      inFlight: poller.inFlight,
      queued: waiting,
      delayed: work.delayed,
      refusals: tally.refusals,
      vendorCalls: tally.vendorCalls,
      ...(failure ? { vendorFailure: { cause: failure.cause, url: failure.url } } : {}),
      buckets,
      elapsedMs,
      lastProgressMs,
    });
    options.onLook?.({
      nowMs: now(),
      total: options.total(),
      vendorCalls: tally.vendorCalls,
      refusals: tally.refusals,
      queue: { visible: work.visible, delayed: work.delayed, inFlight: work.inFlight },
      completed: tally.completions.size,
      deadLettered,
      requeued: tally.requeues,
      buckets,
    });
    const quiet = work.visible + work.inFlight + work.delayed === 0 && poller.inFlight === 0;
    idleChecks = quiet && duplicatesDone ? idleChecks + 1 : 0;
    // Two quiet checks in a row: a requeue sent at the end of the last invocation has landed.
    if (idleChecks >= 2 && !options.serve) return 'drained';
  }
}

/**
 * Messages waiting on the work queue, each counted once: SQS counts the running invocation's
 * messages as not visible, and the progress line shows those as in flight, so only the rest
 * of the not-visible ones (back after a failed invocation's visibility timeout) wait here.
 */
export function waitingOnQueue(depth: QueueDepth, runningInvocation: number): number {
  return depth.visible + depth.delayed + Math.max(0, depth.inFlight - runningInvocation);
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
