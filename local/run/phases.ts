import { largestItems } from '../aws/item-sizes';
import type { LocalStack } from '../aws/stack';
import { startLocalStack } from '../aws/stack';
import { instrumentedFetch } from '../aws/vendor-fetch';
import type { LocalVendor, RunDependencies, WiredHandlers } from '../aws/wiring-types';
import { describeEvent, serveInstructions } from '../cli/serve';
import { EventSourcePoller, type SqsHandler } from '../event-source/poller';
import { awaitOutcomes } from '../outcomes/collector';
import { buildReport, type RunEnd, type RunReport } from '../report/report';
import type { TimelineLook } from '../timeline/recorder';
import { type ChaosPlan, chaosPlan, faultSequence } from './chaos';
import type { RunContext } from './context';
import { bodyId, drainDeadLetters } from './dlq';
import { LOCAL_RECONCILER_EVERY_SECONDS } from './prepare';
import { startReconcilerSchedule } from './reconciler-schedule';
import { watchUntilDrained } from './watch';

/**
 * Messages the work queue's poller holds to serve message groups fairly: enough to see past a
 * demo-sized backlog of one product (docs/local-stack.md, "Fair queues locally"), few enough
 * that at 1 call/s each is handed over well within its hold limit.
 */
export const FAIR_LOOKAHEAD_MESSAGES = 200;

/** The servers of a run, each set as soon as it is up, so that every path stops what started. */
export interface RunServers {
  vendor?: LocalVendor;
  stack?: LocalStack;
}

/** The servers once all are up. */
export type StartedServers = Required<Readonly<RunServers>>;

/** The project's handlers bound to the servers, and what a kill or a second Ctrl-C abandons. */
export interface RunWiring {
  readonly wired: WiredHandlers;
  /** `--chaos`: the faults to inject and the messages to deliver twice. */
  readonly plan: ChaosPlan | undefined;
  /** The work queue's poller, once it runs: its invocation is the one to abandon. */
  readonly worker: { poller?: EventSourcePoller };
}

/**
 * The run's messages by id: those enqueued, then any that producers send while the stack
 * serves, which join the run as they are first seen.
 */
export class RunMessages {
  readonly ids: string[];
  readonly fromProducers = new Set<string>();
  private readonly known: Set<string>;

  constructor(messages: readonly Record<string, unknown>[]) {
    this.ids = messages.map((message) => String(message.id));
    this.known = new Set(this.ids);
  }

  notice(id: string): void {
    if (this.known.has(id)) return;
    this.known.add(id);
    this.ids.push(id);
    this.fromProducers.add(id);
  }
}

/** The messages on the queue, and the worker's handler as the event source calls it. */
export interface Enqueued {
  readonly messages: RunMessages;
  readonly handler: SqsHandler;
  /** Under --chaos, each delivered message's body, to deliver it a second time. */
  readonly bodies: ReadonlyMap<string, string>;
  readonly startedMs: number;
}

/** Starts the vendor (the simulator, or the user's `--vendor-url`), then DynamoDB Local and fauxqs. */
export async function startServers(run: RunContext, deps: RunDependencies, servers: RunServers) {
  const { options, config, derived, printer } = run;
  printer.log(
    `starting DynamoDB Local, fauxqs${options.vendorUrl ? '' : ` and the vendor simulator (${options.profile})`} ...`,
  );
  const vendor = await deps.startVendor(options);
  servers.vendor = vendor;
  const stack = await startLocalStack({ derived, products: config.products });
  servers.stack = stack;
  printer.log(
    `DynamoDB Local ${stack.dynamodbEndpoint} · fauxqs ${stack.sqsEndpoint} · vendor ${vendor.url}`,
  );
  return { vendor, stack };
}

/** Binds the handlers to the servers through the instrumented vendor `fetch`, and seeds the buckets. */
export async function wireRun(
  run: RunContext,
  { vendor, stack }: StartedServers,
  deps: RunDependencies,
): Promise<RunWiring> {
  const { options, config, derived, tally, timeline, now, printer } = run;
  const plan = options.chaos ? chaosPlan(run.prepared.messages.length) : undefined;
  const worker: RunWiring['worker'] = {};
  run.io.quitNow?.addEventListener('abort', () => {
    printer.log(
      'stopping now: the running invocation is abandoned, its messages stay on the queue (Ctrl-C again to quit without a summary)',
    );
    worker.poller?.abandonCurrentInvocation('stopped by a second Ctrl-C');
  });
  const vendorFetch = instrumentedFetch({
    tally,
    idempotencyHeader: config.vendor.idempotencyHeader,
    fault: plan ? faultSequence(plan) : undefined,
    ...(timeline ? { onCall: (delta: 1 | -1) => timeline.callsInFlight(delta, now()) } : {}),
    onKill: () =>
      worker.poller?.abandonCurrentInvocation('chaos: the worker died between acquire and release'),
  });
  const wired = await deps.wireHandlers({
    config,
    derived,
    stack,
    vendorUrl: vendor.url,
    apiKey: vendor.apiKey,
    fetch: vendorFetch,
    tally,
    chaos: options.chaos,
  });
  await wired.seedBuckets();
  return { wired, plan, worker };
}

/** Sends the messages through the producer helper; the run's clock starts here. */
export async function enqueueMessages(
  run: RunContext,
  stack: LocalStack,
  wiring: RunWiring,
): Promise<Enqueued> {
  const { options, config, prepared, tally, printer } = run;
  const { wired, plan } = wiring;
  const messages = new RunMessages(prepared.messages);
  if (options.serve) tally.onEvent = (event) => printer.log(describeEvent(event));
  const bodies = new Map<string, string>();
  const handler: SqsHandler = async (event, context) => {
    for (const record of event.Records) {
      const id = bodyId(record.body) ?? `sqs:${record.messageId}`;
      messages.notice(id);
      tally.delivered(id);
      if (plan && !bodies.has(id)) bodies.set(id, record.body);
    }
    return wired.handler(event, context);
  };
  const startedMs = run.now();
  run.timeline?.start(startedMs);
  if (prepared.messages.length > 0) await wired.enqueue(prepared.messages);
  printer.log(
    `enqueued ${messages.ids.length} messages; the worker runs with batch size ${config.batchSize}, reserved concurrency 1, at most ${config.vendor.maxInFlight} calls in flight`,
  );
  if (options.serve) {
    // Printed even with --quiet: it is what the serve mode is for.
    run.captured.terminal.write(`${serveInstructions(stack, prepared.example)}\n`);
  }
  return { messages, handler, bodies, startedMs };
}

/**
 * Runs the work queue's and the relay's pollers and the reconciler's schedule, with progress,
 * until the queue drains (or the run stops), then every outcome's arrival; stops all three.
 */
export async function drainWithProgress(
  run: RunContext,
  stack: LocalStack,
  wiring: RunWiring,
  enqueued: Enqueued,
): Promise<RunEnd> {
  const { options, config, prepared, tally, printer, io, timeline } = run;
  const { wired, plan } = wiring;
  const poller = workPoller(run, stack, enqueued.handler);
  wiring.worker.poller = poller;
  poller.start();
  const relayPoller = wired.relay ? relayQueuePoller(run, stack, wired.relay) : undefined;
  relayPoller?.start();
  const reconciler = scheduleReconciler(run, wired);
  try {
    const end = await watchUntilDrained({
      stack,
      poller,
      wired,
      tally,
      printer,
      total: () => enqueued.messages.ids.length,
      maxRunSeconds: options.maxRunSeconds,
      serve: options.serve,
      dimensions: config.buckets.map((bucket) => bucket.dimension).filter((d) => !d.endsWith('#*')),
      startedMs: enqueued.startedMs,
      now: run.now,
      ...(timeline ? { onLook: (look: TimelineLook) => timeline.look(look) } : {}),
      ...(io.signal ? { signal: io.signal } : {}),
      ...(plan ? { chaos: { plan, bodies: enqueued.bodies } } : {}),
    });
    // Ends only when every message's outcome reached its product, or says which are missing.
    if (wired.outcomes) {
      await awaitOutcomes({
        collector: wired.outcomes,
        expected: outcomeIds(prepared.messages, config.products),
        now: run.now,
        ...(io.signal ? { signal: io.signal } : {}),
      });
    }
    return end;
  } finally {
    printer.finish();
    await Promise.all([poller.stop(), reconciler.stop(), relayPoller?.stop()]);
    tally.reconcilerFailures = reconciler.failures();
  }
}

/** The worker's event source on the work queue, serving message groups fairly unless told not to. */
function workPoller(run: RunContext, stack: LocalStack, handler: SqsHandler): EventSourcePoller {
  const { options, config, derived, tally, printer } = run;
  return new EventSourcePoller({
    sqs: stack.sqs,
    queueUrl: stack.queueUrl,
    queueArn: stack.queueArn,
    handler,
    batchSize: config.batchSize,
    maxBatchingWindowSeconds: config.maxBatchingWindowSeconds,
    // fauxqs ignores message groups on a standard queue; the poller serves them fairly instead.
    ...(options.queueInOrder
      ? {}
      : {
          fairQueue: {
            lookaheadMessages: FAIR_LOOKAHEAD_MESSAGES,
            visibilityTimeoutSeconds: derived.visibilityTimeoutSeconds,
          },
        }),
    functionName: `sluice-${config.stage}-worker`,
    timeoutSeconds: derived.lambdaTimeoutSeconds,
    region: 'us-east-1',
    onInvocation: (invocation) => {
      tally.invocation(invocation.outcome);
      if (invocation.outcome === 'ok') return;
      // The worker reports a surprise per message; the batch response carries only ids.
      const why = invocation.error ?? tally.lastWorkerError ?? 'see the handlers log';
      printer.log(
        `${invocation.outcome}: ${why} (${invocation.failedIds.length} message(s) come back after the visibility timeout of ${derived.visibilityTimeoutSeconds} s)`,
      );
    },
    onError: (error) => printer.log(`poller: ${error instanceof Error ? error.message : String(error)}`),
  });
}

/** The work queue's redrive target, drained by the dead-letter relay as its Lambda would. */
function relayQueuePoller(run: RunContext, stack: LocalStack, relay: SqsHandler): EventSourcePoller {
  return new EventSourcePoller({
    sqs: stack.sqs,
    queueUrl: stack.relayQueueUrl,
    queueArn: stack.relayQueueArn,
    handler: relay,
    batchSize: 10,
    functionName: `sluice-${run.config.stage}-dead-letter-relay`,
    timeoutSeconds: 30,
    region: 'us-east-1',
    onError: (error) => run.printer.log(`relay: ${error instanceof Error ? error.message : String(error)}`),
  });
}

/** The reconciler on its scaled-down schedule, its reclaimed leases counted. */
function scheduleReconciler(run: RunContext, wired: WiredHandlers) {
  const { tally, printer } = run;
  return startReconcilerSchedule({
    everySeconds: LOCAL_RECONCILER_EVERY_SECONDS,
    reconcile: wired.reconcile,
    onRestored: (restored) => {
      tally.reconcilerRuns += 1;
      tally.reclaimedLeases += restored;
      if (restored > 0) printer.log(`reconciler: reclaimed ${restored} expired lease(s)`);
    },
    onFirstFailure: (message) => printer.log(`reconciler failed (reported once): ${message}`),
  });
}

/** Reads the dead letters and the table's largest items, and builds the report of every message. */
export async function collectReport(
  run: RunContext,
  { vendor, stack }: StartedServers,
  wiring: RunWiring,
  enqueued: Enqueued,
  end: RunEnd,
): Promise<RunReport> {
  const { options, config, prepared, tally, printer } = run;
  const { wired } = wiring;
  if (end === 'time-limit') {
    printer.log(
      `stopping: the queue has not drained after ${options.maxRunSeconds} s (--max-run-seconds); what is left is reported pending`,
    );
  }
  const makespanSeconds = (run.now() - enqueued.startedMs) / 1000;
  for (const letter of await drainDeadLetters(stack.sqs, stack.dlqUrl, { withDetail: true })) {
    enqueued.messages.notice(letter.id);
    tally.deadLetter(letter.id, letter.reason, letter.detail);
  }
  return buildReport({
    ids: enqueued.messages.ids,
    fromProducers: enqueued.messages.fromProducers,
    tally,
    makespanSeconds,
    dynamodb: stack.dynamodbUsage(),
    largestItems: await largestItems(stack.adminDynamodb, stack.tableName),
    end,
    maxRunSeconds: options.maxRunSeconds,
    simulatorSuccesses: vendor.successesById?.(),
    ...(wired.outcomes
      ? { outcomes: wired.outcomes.report(outcomeIds(prepared.messages, config.products)) }
      : {}),
    run: {
      profile: options.profile,
      chaos: options.chaos,
      vendorUrl: vendor.url,
      config: prepared.configFile,
      serve: options.serve,
      handlersLog: run.logFile,
    },
  });
}

/** Stops whichever servers started and gives the process its output back. */
export async function stopRun(run: RunContext, servers: RunServers): Promise<void> {
  await Promise.allSettled([servers.stack?.stop(), servers.vendor?.stop()]);
  run.captured.restore();
}

/** The ids whose outcome a product must receive: those naming a configured product. */
function outcomeIds(messages: readonly Record<string, unknown>[], products: readonly string[]): string[] {
  const known = new Set(products);
  return messages
    .filter((message) => typeof message.product === 'string' && known.has(message.product))
    .map((message) => String(message.id));
}
