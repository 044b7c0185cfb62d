import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { SLOT_MARGIN_SECONDS } from '../../lambda/contract';
import { poolWarnings, type StackConfig } from '../../lib/config';
import { MIN_LAMBDA_TIMEOUT_SECONDS } from '../../lib/config-rules';
import { deriveSettings } from '../../lib/derived-settings';
import { largestItems } from '../aws/item-sizes';
import { startLocalStack } from '../aws/stack';
import { instrumentedFetch } from '../aws/vendor-fetch';
import { realDependencies } from '../aws/wiring';
import type { LocalVendor, RunDependencies } from '../aws/wiring-types';
import { loadConfigFile } from '../cli/inputs';
import type { CliOptions } from '../cli/options';
import { ProgressPrinter } from '../cli/progress';
import { describeEvent, serveInstructions, shortPath } from '../cli/serve';
import { EventSourcePoller } from '../event-source/poller';
import { awaitOutcomes } from '../outcomes/collector';
import { buildReport, type RunReport } from '../report/report';
import { Tally } from '../report/tally';
import type { RunTimeline } from '../timeline/recorder';
import { chaosLambdaTimeoutSeconds, chaosPlan, faultSequence } from './chaos';
import { demoWorkload } from './demo-workload';
import { bodyId, drainDeadLetters } from './dlq';
import { captureProcessOutput } from './log-capture';
import { startReconcilerSchedule } from './reconciler-schedule';
import { watchUntilDrained } from './watch';

/** The reconciler runs every minute on AWS; locally every few seconds (scaled-down schedule). */
export const LOCAL_RECONCILER_EVERY_SECONDS = 5;
/**
 * Messages the work queue's poller holds to serve message groups fairly: enough to see past a
 * demo-sized backlog of one product (docs/local-stack.md, "Fair queues locally"), few enough
 * that at 1 call/s each is handed over well within its hold limit.
 */
export const FAIR_LOOKAHEAD_MESSAGES = 200;

export interface PreparedRun {
  readonly options: CliOptions;
  readonly config: StackConfig;
  readonly configFile: string;
  /** The messages to enqueue, each with a unique string `id`. */
  readonly messages: readonly Record<string, unknown>[];
  /** Lines printed before the servers start (what was scaled down, and why). */
  readonly notes: readonly string[];
  /** A valid message for this configuration, shown in the serve mode's instructions. */
  readonly example: Record<string, unknown>;
}

/** Applies `--chaos` to the configuration: a shorter Lambda timeout so a killed batch comes back soon. */
export function prepareRun(
  options: CliOptions,
  config: StackConfig,
  configFile: string,
  messages?: readonly Record<string, unknown>[],
): PreparedRun {
  const notes: string[] = [];
  let effective = config;
  if (options.chaos) {
    const lambdaTimeoutSeconds = chaosLambdaTimeoutSeconds({
      configured: config.lambdaTimeoutSeconds,
      inlineThresholdSeconds: config.vendor.policy.inlineRetryThresholdSeconds,
      minimum: MIN_LAMBDA_TIMEOUT_SECONDS,
      slotMarginSeconds: SLOT_MARGIN_SECONDS,
    });
    if (lambdaTimeoutSeconds !== config.lambdaTimeoutSeconds) {
      // Validated again from the file as written: a parsed configuration is not an input
      // (its products are names, its buckets derived, its pool fitted to the old timeout).
      effective = loadConfigFile(configFile, { lambdaTimeoutSeconds });
      notes.push(
        `chaos: Lambda timeout ${config.lambdaTimeoutSeconds} s → ${lambdaTimeoutSeconds} s, so a killed batch reappears after ${6 * lambdaTimeoutSeconds} s instead of ${6 * config.lambdaTimeoutSeconds} s`,
      );
    }
  }
  for (const line of config.bucketDerivations ?? []) notes.push(`bucket ${line}`);
  for (const warning of poolWarnings(effective)) notes.push(`sizing: ${warning}`);
  notes.push(
    `reconciler: every ${LOCAL_RECONCILER_EVERY_SECONDS} s (every ${config.reconcilerEveryMinutes} min on AWS)`,
  );
  return {
    options,
    config: effective,
    configFile,
    messages: messages ?? demoWorkload(options.profile, options.count, effective),
    notes,
    example: demoWorkload(options.profile, 1, effective)[0] ?? { id: 'work-1' },
  };
}

/** Runs everything, returns the report; servers are stopped on every path. */
export async function runLocalStack(
  prepared: PreparedRun,
  io: {
    /** Stop after the running invocation (the first Ctrl-C). */
    readonly signal?: AbortSignal;
    /** Stop now: abandon the running invocation, its messages stay on the queue (the second Ctrl-C). */
    readonly quitNow?: AbortSignal;
    readonly logFile?: string;
    readonly nowMs?: () => number;
    /** Records the run second by second for the report page (`--html`, `--dashboard`). */
    readonly timeline?: RunTimeline;
  },
  deps: RunDependencies = realDependencies,
): Promise<RunReport> {
  const { options, config } = prepared;
  const now = io.nowMs ?? Date.now;
  const tally = new Tally();
  const logFile = io.logFile ?? join(process.cwd(), '.sluice-local', 'handlers.log');
  const timeline = io.timeline;
  const captured = captureProcessOutput({
    file: logFile,
    ...(timeline ? { onLine: (line: string) => timeline.onLogLine(line, now()) } : {}),
  });
  const printer = new ProgressPrinter(captured.terminal, { quiet: options.quiet });
  for (const note of prepared.notes) printer.log(note);
  printer.log(`handlers' logs (JSON lines, as CloudWatch gets them): ${shortPath(logFile)}`);
  io.signal?.addEventListener('abort', () =>
    printer.log(
      'stopping: the running invocation finishes, then the servers stop (Ctrl-C again to stop it now)',
    ),
  );
  const derived = deriveSettings(config);
  let vendor: LocalVendor | undefined;
  let stack: Awaited<ReturnType<typeof startLocalStack>> | undefined;
  try {
    printer.log(
      `starting DynamoDB Local, fauxqs${options.vendorUrl ? '' : ` and the vendor simulator (${options.profile})`} ...`,
    );
    vendor = await deps.startVendor(options);
    stack = await startLocalStack({ derived, products: config.products });
    printer.log(
      `DynamoDB Local ${stack.dynamodbEndpoint} · fauxqs ${stack.sqsEndpoint} · vendor ${vendor.url}`,
    );

    const plan = options.chaos ? chaosPlan(prepared.messages.length) : undefined;
    let poller: EventSourcePoller | undefined;
    io.quitNow?.addEventListener('abort', () => {
      printer.log(
        'stopping now: the running invocation is abandoned, its messages stay on the queue (Ctrl-C again to quit without a summary)',
      );
      poller?.abandonCurrentInvocation('stopped by a second Ctrl-C');
    });
    const vendorFetch = instrumentedFetch({
      tally,
      idempotencyHeader: config.vendor.idempotencyHeader,
      fault: plan ? faultSequence(plan) : undefined,
      ...(timeline ? { onCall: (delta: 1 | -1) => timeline.callsInFlight(delta, now()) } : {}),
      onKill: () => poller?.abandonCurrentInvocation('chaos: the worker died between acquire and release'),
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

    const ids = prepared.messages.map((message) => String(message.id));
    // Messages producers send while the stack serves join the run as they are first seen.
    const known = new Set(ids);
    const fromProducers = new Set<string>();
    const notice = (id: string) => {
      if (known.has(id)) return;
      known.add(id);
      ids.push(id);
      fromProducers.add(id);
    };
    if (options.serve) tally.onEvent = (event) => printer.log(describeEvent(event));
    const bodies = new Map<string, string>();
    const handler = async (
      event: SQSEvent,
      context: Parameters<typeof wired.handler>[1],
    ): Promise<SQSBatchResponse | undefined> => {
      for (const record of event.Records) {
        const id = bodyId(record.body) ?? `sqs:${record.messageId}`;
        notice(id);
        tally.delivered(id);
        if (plan && !bodies.has(id)) bodies.set(id, record.body);
      }
      return wired.handler(event, context);
    };
    const startedMs = now();
    timeline?.start(startedMs);
    if (prepared.messages.length > 0) await wired.enqueue(prepared.messages);
    printer.log(
      `enqueued ${ids.length} messages; the worker runs with batch size ${config.batchSize}, reserved concurrency 1, at most ${config.vendor.maxInFlight} calls in flight`,
    );
    if (options.serve) {
      // Printed even with --quiet: it is what the serve mode is for.
      captured.terminal.write(`${serveInstructions(stack, prepared.example)}\n`);
    }

    poller = new EventSourcePoller({
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
    poller.start();
    // The work queue's redrive target, drained by the dead-letter relay as its Lambda would.
    const relayPoller = wired.relay
      ? new EventSourcePoller({
          sqs: stack.sqs,
          queueUrl: stack.relayQueueUrl,
          queueArn: stack.relayQueueArn,
          handler: wired.relay,
          batchSize: 10,
          functionName: `sluice-${config.stage}-dead-letter-relay`,
          timeoutSeconds: 30,
          region: 'us-east-1',
          onError: (error) => printer.log(`relay: ${error instanceof Error ? error.message : String(error)}`),
        })
      : undefined;
    relayPoller?.start();
    const reconciler = startReconcilerSchedule({
      everySeconds: LOCAL_RECONCILER_EVERY_SECONDS,
      reconcile: wired.reconcile,
      onRestored: (restored) => {
        tally.reconcilerRuns += 1;
        tally.reclaimedLeases += restored;
        if (restored > 0) printer.log(`reconciler: reclaimed ${restored} expired lease(s)`);
      },
      onFirstFailure: (message) => printer.log(`reconciler failed (reported once): ${message}`),
    });

    let end: Awaited<ReturnType<typeof watchUntilDrained>>;
    try {
      end = await watchUntilDrained({
        stack,
        poller,
        wired,
        tally,
        printer,
        total: () => ids.length,
        maxRunSeconds: options.maxRunSeconds,
        serve: options.serve,
        dimensions: config.buckets.map((bucket) => bucket.dimension).filter((d) => !d.endsWith('#*')),
        startedMs,
        now,
        ...(timeline ? { onLook: (look: Parameters<RunTimeline['look']>[0]) => timeline.look(look) } : {}),
        ...(io.signal ? { signal: io.signal } : {}),
        ...(plan ? { chaos: { plan, bodies } } : {}),
      });
      // Ends only when every message's outcome reached its product, or says which are missing.
      if (wired.outcomes) {
        await awaitOutcomes({
          collector: wired.outcomes,
          expected: outcomeIds(prepared.messages, config.products),
          now,
          ...(io.signal ? { signal: io.signal } : {}),
        });
      }
    } finally {
      printer.finish();
      await Promise.all([poller.stop(), reconciler.stop(), relayPoller?.stop()]);
      tally.reconcilerFailures = reconciler.failures();
    }
    if (end === 'time-limit') {
      printer.log(
        `stopping: the queue has not drained after ${options.maxRunSeconds} s (--max-run-seconds); what is left is reported pending`,
      );
    }
    const makespanSeconds = (now() - startedMs) / 1000;
    for (const letter of await drainDeadLetters(stack.sqs, stack.dlqUrl, { withDetail: true })) {
      notice(letter.id);
      tally.deadLetter(letter.id, letter.reason, letter.detail);
    }
    return buildReport({
      ids,
      fromProducers,
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
        handlersLog: logFile,
      },
    });
  } finally {
    await Promise.allSettled([stack?.stop(), vendor?.stop()]);
    captured.restore();
  }
}

/** The ids whose outcome a product must receive: those naming a configured product. */
function outcomeIds(messages: readonly Record<string, unknown>[], products: readonly string[]): string[] {
  const known = new Set(products);
  return messages
    .filter((message) => typeof message.product === 'string' && known.has(message.product))
    .map((message) => String(message.id));
}
