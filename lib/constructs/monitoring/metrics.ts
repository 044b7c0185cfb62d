import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { METRICS_NAMESPACE, Metric, MetricDimension, type MetricName } from '../../../lambda/contract';

/** Alarms and widgets sum over five minutes unless a metric says otherwise. */
export const METRIC_PERIOD = Duration.minutes(5);

export interface WorkerMetricSources {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  readonly worker: lambda.IFunction;
  /** The `service` dimension of the custom metrics (POWERTOOLS_SERVICE_NAME = vendor name). */
  readonly vendorName: string;
  readonly reconciler?: lambda.IFunction;
  /** The products whose outcomes the worker publishes (the `Product` dimension's values). */
  readonly products?: readonly string[];
  /** How often the reconciler reports the circuit (its schedule). @default 1 */
  readonly circuitReportMinutes?: number;
}

/**
 * Every metric the dashboard and the alarms use, defined once (apart from the alarms and
 * the layout). Custom metrics come from the handlers through Powertools (EMF) in the
 * METRICS_NAMESPACE, with the vendor name as the `service` dimension; message ids are
 * never a dimension.
 */
export class WorkerMetrics {
  constructor(readonly sources: WorkerMetricSources) {}

  /** No label: a labelled metric turns an alarm into a metric-math alarm, harder to read. */
  custom(name: MetricName, statistic = cloudwatch.Stats.SUM): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: name,
      dimensionsMap: { [MetricDimension.service]: this.sources.vendorName },
      statistic,
      period: METRIC_PERIOD,
    });
  }

  queueDepth(): cloudwatch.Metric {
    return this.sources.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) });
  }

  /** Requeued messages wait here: a per-message delay hides them from the visible count. */
  delayedMessages(): cloudwatch.Metric {
    return this.sources.queue.metric('ApproximateNumberOfMessagesDelayed', {
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
  }

  oldestMessageAge(): cloudwatch.Metric {
    return this.sources.queue.metricApproximateAgeOfOldestMessage({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
  }

  /** Visible messages, not NumberOfMessagesSent: redriven messages are never "sent" to the DLQ. */
  deadLetterDepth(): cloudwatch.Metric {
    return this.sources.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
  }

  invocations(): cloudwatch.Metric {
    return this.sources.worker.metricInvocations({ period: METRIC_PERIOD });
  }

  errors(): cloudwatch.Metric {
    return this.sources.worker.metricErrors({ period: METRIC_PERIOD });
  }

  /** With reserved concurrency 1, throttled pollers return messages silently: the first sign of trouble. */
  throttles(): cloudwatch.Metric {
    return this.sources.worker.metricThrottles({ period: METRIC_PERIOD });
  }

  duration(): cloudwatch.Metric {
    return this.sources.worker.metricDuration({ period: METRIC_PERIOD, statistic: cloudwatch.Stats.p(99) });
  }

  concurrency(): cloudwatch.Metric {
    return this.sources.worker.metric('ConcurrentExecutions', {
      period: Duration.minutes(1),
      statistic: cloudwatch.Stats.MAXIMUM,
    });
  }

  /** Vendor calls running at once in the worker (the pool's fill), the most seen in each minute. */
  callsInFlight(): cloudwatch.Metric {
    return this.custom(Metric.callsInFlight, cloudwatch.Stats.MAXIMUM).with({ period: Duration.minutes(1) });
  }

  /**
   * How long the vendor circuit has been open, the longest seen in each reconciler period:
   * reported by every reconciler run (0 while closed, whatever the traffic) and by every
   * delivery that finds it open.
   */
  circuitOpenSeconds(): cloudwatch.Metric {
    return this.custom(Metric.circuitOpenSeconds, cloudwatch.Stats.MAXIMUM).with({
      period: Duration.minutes(this.sources.circuitReportMinutes ?? 1),
    });
  }

  /** The circuit's state at each reconciler run: 1 while open or unauthorized, 0 closed. */
  circuitOpen(): cloudwatch.Metric {
    return this.custom(Metric.circuitOpen, cloudwatch.Stats.MAXIMUM).with({
      period: Duration.minutes(this.sources.circuitReportMinutes ?? 1),
    });
  }

  /** Admitted calls per minute: the rate the buckets let through. */
  admittedRate(): cloudwatch.Metric {
    return this.custom(Metric.grants).with({ period: Duration.minutes(1) });
  }

  /** The worker's own age since first enqueue: requeued copies reset the queue's age. */
  endToEndAge(): cloudwatch.Metric {
    return this.custom(Metric.messageAge, cloudwatch.Stats.MAXIMUM);
  }

  /** Dead-lettered messages by reason (the Reason dimension), found by a search expression. */
  deadLetteredByReason(): cloudwatch.MathExpression {
    const { service, reason } = MetricDimension;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},${service},${reason}} MetricName="${Metric.deadLettered}" ${service}="${this.sources.vendorName}"', 'Sum', 300)`,
      label: 'Dead-lettered by reason',
      period: METRIC_PERIOD,
    });
  }

  /** The lowest refill rate a penalty left in each bucket, in % of the configured rate. */
  rateScaleByBucket(): cloudwatch.MathExpression {
    const { service, bucket } = MetricDimension;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},${service},${bucket}} MetricName="${Metric.rateScale}" ${service}="${this.sources.vendorName}"', 'Minimum', 300)`,
      label: 'Rate after a penalty (%)',
      period: METRIC_PERIOD,
    });
  }

  /** 429s whose answer stated a limit below the bucket's configured rate, per bucket: that limit became its ceiling. */
  statedLimitBelowConfiguredByBucket(): cloudwatch.MathExpression {
    const { service, bucket } = MetricDimension;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},${service},${bucket}} MetricName="${Metric.statedLimitBelowConfigured}" ${service}="${this.sources.vendorName}"', 'Sum', 300)`,
      label: 'Stated limit below configured',
      period: METRIC_PERIOD,
    });
  }

  /** Outcomes published, one metric per product and class (both bounded: products come from the configuration). */
  outcomesPublished(): cloudwatch.Metric[] {
    return (this.sources.products ?? []).flatMap((product) =>
      ['completed', 'dead_lettered'].map(
        (outcome) =>
          new cloudwatch.Metric({
            namespace: METRICS_NAMESPACE,
            metricName: Metric.outcomesPublished,
            dimensionsMap: {
              [MetricDimension.service]: this.sources.vendorName,
              [MetricDimension.product]: product,
              [MetricDimension.outcomeClass]: outcome,
            },
            statistic: cloudwatch.Stats.SUM,
            period: METRIC_PERIOD,
            label: `${product} ${outcome}`,
          }),
      ),
    );
  }

  /**
   * Per product (docs/worker.md, "Fair shares"): its grants (the admitted rate), the units taken
   * from its reserved share (share used) and from the common part (idle shares borrowed), by
   * bucket, and the end-to-end age of its messages (how long it waits).
   */
  productSearch(
    metric: MetricName,
    statistic: string,
    label: string,
    byBucket = false,
  ): cloudwatch.MathExpression {
    const { service, product, bucket } = MetricDimension;
    const dimensions = byBucket ? `${service},${product},${bucket}` : `${service},${product}`;
    return new cloudwatch.MathExpression({
      expression: `SEARCH('{${METRICS_NAMESPACE},${dimensions}} MetricName="${metric}" ${service}="${this.sources.vendorName}"', '${statistic}', 300)`,
      label,
      period: METRIC_PERIOD,
    });
  }

  /** The longest end-to-end age of one product's completed messages (its wait), over 5 minutes. */
  productMessageAge(product: string): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRICS_NAMESPACE,
      metricName: Metric.productMessageAge,
      dimensionsMap: {
        [MetricDimension.service]: this.sources.vendorName,
        [MetricDimension.product]: product,
      },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: METRIC_PERIOD,
    });
  }

  reconcilerErrors(): cloudwatch.Metric | undefined {
    return this.sources.reconciler?.metricErrors({ period: METRIC_PERIOD });
  }
}
