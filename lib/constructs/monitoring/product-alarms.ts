import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { ProductPolicy } from '../../product-shares';
import type { WorkerMetrics } from './metrics';

/**
 * One alarm per product with a `maxWaitSeconds`: a completed message of that product waited
 * longer than it may (its end-to-end age, docs/worker.md, "Fair shares"). Missing data is not
 * breaching: a product with nothing to do publishes nothing.
 */
export function createProductWaitAlarms(
  scope: Construct,
  metrics: WorkerMetrics,
  policies: readonly ProductPolicy[],
  topic?: sns.ITopic,
): Record<string, cloudwatch.Alarm> {
  const alarms: Record<string, cloudwatch.Alarm> = {};
  for (const policy of policies) {
    if (policy.maxWaitSeconds === undefined) continue;
    const alarm = new cloudwatch.Alarm(scope, `ProductWait-${policy.name}`, {
      metric: metrics.productMessageAge(policy.name),
      threshold: policy.maxWaitSeconds,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Product ${policy.name} waited longer than its maxWaitSeconds (${policy.maxWaitSeconds} s): its share is too small for its load, or the vendor's limit is.`,
    });
    if (topic) {
      alarm.addAlarmAction(new actions.SnsAction(topic));
      alarm.addOkAction(new actions.SnsAction(topic));
    }
    alarms[policy.name] = alarm;
  }
  return alarms;
}
