import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { LogEvent, type MetricName } from '../../contract';

/**
 * What the worker reports, behind one small interface: the handler wires Powertools Logger
 * and Metrics (EMF), tests record. A message id may appear in a log line, never as a metric
 * dimension (each value would be a new, billed metric).
 */
/** One metric dimension: a bounded name and value (a reason, a product; never a message id). */
export interface MetricDimensionValue {
  readonly name: string;
  readonly value: string;
}

export interface WorkerTelemetry {
  /** A count, with no dimension, one, or several together (outcomes by product and class). */
  count(
    metric: MetricName,
    value?: number,
    dimension?: MetricDimensionValue | readonly MetricDimensionValue[],
  ): void;
  milliseconds(metric: MetricName, value: number): void;
  /** A level in percent under one dimension (the rate scale of one bucket). */
  percent(
    metric: MetricName,
    value: number,
    dimension: { readonly name: string; readonly value: string },
  ): void;
  /** Seconds, with no dimension or under one (a product's message age). */
  seconds(metric: MetricName, value: number, dimension?: MetricDimensionValue): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
  /** Publishes the metrics gathered during one invocation. */
  flush(): void;
}

export function powertoolsTelemetry(logger: Logger, metrics: Metrics): WorkerTelemetry {
  const add = (metric: MetricName, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number) =>
    metrics.addMetric(metric, unit, value);
  return {
    count(metric, value = 1, dimension) {
      if (dimension === undefined) return void add(metric, MetricUnit.Count, value);
      // A per-value dimension (response class, reason) must not leak onto the other metrics.
      const single = metrics.singleMetric();
      for (const each of Array.isArray(dimension) ? dimension : [dimension]) {
        single.addDimension(each.name, each.value);
      }
      single.addMetric(metric, MetricUnit.Count, value);
    },
    milliseconds: (metric, value) => add(metric, MetricUnit.Milliseconds, value),
    percent(metric, value, dimension) {
      const single = metrics.singleMetric();
      single.addDimension(dimension.name, dimension.value);
      single.addMetric(metric, MetricUnit.Percent, value);
    },
    seconds(metric, value, dimension) {
      if (dimension === undefined) return void add(metric, MetricUnit.Seconds, value);
      const single = metrics.singleMetric();
      single.addDimension(dimension.name, dimension.value);
      single.addMetric(metric, MetricUnit.Seconds, value);
    },
    info: (event, fields) => logger.info(event, { event, ...fields }),
    warn: (event, fields) => logger.warn(event, { event, ...fields }),
    error: (event, fields) => logger.error(event, { event, ...fields }),
    flush: () => {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}

/**
 * A step after a vendor call (release, settle, resync, penalize, the circuit's record) must
 * not turn a finished call into a failed message (its redelivery would call the vendor again):
 * a failure is logged, and the reconciler (release) or refill (the others) repairs the bucket.
 */
export async function bestEffort(
  telemetry: Pick<WorkerTelemetry, 'warn'>,
  what: string,
  step: () => Promise<unknown>,
): Promise<void> {
  try {
    await step();
  } catch (error) {
    telemetry.warn(LogEvent.messageFailed, { step: what, error: (error as Error).message });
  }
}

/** One best-effort step after a vendor call: what it is (for the log), the step, and what follows it either way. */
export interface BestEffortStep {
  readonly what: string;
  readonly step: () => Promise<unknown>;
  readonly after?: () => void;
}

/** Runs the steps one after the other, each best effort (`bestEffort`): a failed one never stops the next. */
export async function bestEffortSteps(
  telemetry: Pick<WorkerTelemetry, 'warn'>,
  steps: readonly BestEffortStep[],
): Promise<void> {
  for (const { what, step, after } of steps) {
    await bestEffort(telemetry, what, step);
    after?.();
  }
}
