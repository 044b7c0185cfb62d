import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { Metric } from '../../../lambda/contract';
import type { AlarmThresholds } from '../../config';
import type { WorkerMetrics } from './metrics';

export type SluiceAlarmName =
  | 'DeadLetterQueueNotEmpty'
  | 'OldestMessageTooOld'
  | 'EndToEndAgeTooOld'
  | 'WorkerErrors'
  | 'WorkerMessageFailures'
  | 'WorkerThrottles'
  | 'ReconcilerErrors'
  | 'Vendor429AfterGrant'
  | 'OutcomePublishFailures'
  | 'VendorCircuitOpen'
  | 'VendorCircuitUnreadable';

interface AlarmSpec {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly description: string;
}

/** What each alarm means, in the words an operator needs at 3 a.m. (docs/deploy.md repeats them). */
function alarmSpecs(
  metrics: WorkerMetrics,
  thresholds: AlarmThresholds,
): Partial<Record<SluiceAlarmName, AlarmSpec>> {
  const reconcilerErrors = metrics.reconcilerErrors();
  return {
    DeadLetterQueueNotEmpty: {
      metric: metrics.deadLetterDepth(),
      threshold: 1,
      description: 'Messages reached the DLQ: read their sluice-dlq-reason attribute, fix, then redrive.',
    },
    OldestMessageTooOld: {
      metric: metrics.oldestMessageAge(),
      threshold: thresholds.oldestMessageAgeSeconds,
      description:
        'The queue is not drained: the worker is failing, throttled or the vendor quota is too small.',
    },
    EndToEndAgeTooOld: {
      metric: metrics.endToEndAge(),
      threshold: thresholds.endToEndAgeSeconds,
      description: 'Messages keep being requeued for capacity: demand exceeds the vendor quota.',
    },
    WorkerErrors: {
      metric: metrics.errors(),
      threshold: thresholds.workerErrorsPerFiveMinutes,
      description: 'The worker failed unexpectedly (not a vendor answer): see its logs.',
    },
    WorkerMessageFailures: {
      metric: metrics.custom(Metric.messageFailures),
      threshold: thresholds.workerErrorsPerFiveMinutes,
      description:
        'Messages failed inside the worker (a store, queue or secret error, a bug): see message.failed in its logs. Lambda Errors stays 0 for these.',
    },
    WorkerThrottles: {
      metric: metrics.throttles(),
      threshold: thresholds.workerThrottlesPerFiveMinutes,
      description:
        'Invocations throttled by reserved concurrency 1: each one costs a receive toward the DLQ.',
    },
    ...(reconcilerErrors && {
      ReconcilerErrors: {
        metric: reconcilerErrors,
        threshold: 1,
        description: 'The reconciler failed: leaked concurrent slots are not being reclaimed.',
      },
    }),
    ...(metrics.sources.products?.length && {
      OutcomePublishFailures: {
        metric: metrics.custom(Metric.outcomePublishFailures),
        threshold: 1,
        description:
          'Outcomes could not be published (SNS or the claim-check bucket failed): the messages are delivered again to retry; see outcome.publish_failed in the worker logs.',
      },
    }),
    Vendor429AfterGrant: {
      metric: metrics.custom(Metric.vendor429AfterGrant),
      threshold: thresholds.vendor429AfterGrantPerFiveMinutes,
      description:
        'The vendor said 429 after Sluice granted capacity: the configured buckets exceed the real quota.',
    },
    VendorCircuitOpen: {
      // The reconciler reports it every run (0 while closed), so it fires and clears with an empty queue too.
      metric: metrics.circuitOpenSeconds(),
      threshold: thresholds.circuitOpenSeconds,
      description:
        'The vendor circuit stays open: the vendor is down, or refuses the key (circuit.opened in the worker logs, circuit.state in the reconciler logs say which). Messages wait without spending attempts until maxAgeSeconds; fix the secret if unauthorized, no redrive needed.',
    },
    VendorCircuitUnreadable: {
      metric: metrics.custom(Metric.circuitUnreadable),
      threshold: 1,
      description:
        'The vendor circuit item in the bucket table could not be read (circuit.unreadable in the worker or reconciler logs says what is wrong): it is taken as closed and replaced by the next write; find what wrote it.',
    },
  };
}

/**
 * One alarm per condition in the monitoring issue, each on one metric from WorkerMetrics.
 * Missing data is not breaching: an idle worker publishes nothing.
 */
export function createAlarms(
  scope: Construct,
  metrics: WorkerMetrics,
  thresholds: AlarmThresholds,
  topic?: sns.ITopic,
): Partial<Record<SluiceAlarmName, cloudwatch.Alarm>> {
  const alarms: Partial<Record<SluiceAlarmName, cloudwatch.Alarm>> = {};
  for (const [name, spec] of Object.entries(alarmSpecs(metrics, thresholds)) as [
    SluiceAlarmName,
    AlarmSpec,
  ][]) {
    const alarm = new cloudwatch.Alarm(scope, name, {
      metric: spec.metric,
      threshold: spec.threshold,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: spec.description,
    });
    if (topic) {
      alarm.addAlarmAction(new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
    }
    alarms[name] = alarm;
  }
  return alarms;
}
