import { SLOT_MARGIN_SECONDS } from '../../lambda/contract';
import { poolWarnings, type StackConfig } from '../../lib/config';
import { MIN_LAMBDA_TIMEOUT_SECONDS } from '../../lib/config-rules';
import { loadConfigFile } from '../cli/inputs';
import type { CliOptions } from '../cli/options';
import { chaosLambdaTimeoutSeconds } from './chaos';
import { demoWorkload } from './demo-workload';

/** The reconciler runs every minute on AWS; locally every few seconds (scaled-down schedule). */
export const LOCAL_RECONCILER_EVERY_SECONDS = 5;

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
