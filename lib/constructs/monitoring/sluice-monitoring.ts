import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { type AlarmThresholds, policiesOf } from '../../config';
import type { RateLimitedWorker } from '../rate-limited-worker';
import type { ReconcilerFunction } from '../reconciler-function';
import { createAlarms, type SluiceAlarmName } from './alarms';
import { buildDashboard } from './dashboard';
import { WorkerMetrics } from './metrics';
import { createProductWaitAlarms } from './product-alarms';

export interface SluiceMonitoringProps {
  readonly worker: RateLimitedWorker;
  /** @default - no reconciler widgets or alarm (a second worker shares the first one's reconciler) */
  readonly reconciler?: ReconcilerFunction;
  /** @default the worker's `config.alarms` */
  readonly thresholds?: AlarmThresholds;
  /** @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
}

/** The dashboard and alarms of one rate-limited worker (and the reconciler, if given). */
export class SluiceMonitoring extends Construct {
  readonly metrics: WorkerMetrics;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: Partial<Record<SluiceAlarmName, cloudwatch.Alarm>>;
  /** By product: the products with a `maxWaitSeconds` in the configuration. */
  readonly productWaitAlarms: Record<string, cloudwatch.Alarm>;

  constructor(scope: Construct, id: string, props: SluiceMonitoringProps) {
    super(scope, id);
    this.metrics = new WorkerMetrics({
      queue: props.worker.queue,
      deadLetterQueue: props.worker.deadLetterQueue,
      worker: props.worker.function,
      vendorName: props.worker.config.vendor.name,
      reconciler: props.reconciler?.function,
      circuitReportMinutes: props.worker.config.reconcilerEveryMinutes,
      ...(props.worker.outcomes ? { products: props.worker.config.products } : {}),
    });
    this.dashboard = buildDashboard(this, 'Dashboard', this.metrics);
    this.alarms = createAlarms(
      this,
      this.metrics,
      props.thresholds ?? props.worker.config.alarms,
      props.alarmTopic,
    );
    this.productWaitAlarms = createProductWaitAlarms(
      this,
      this.metrics,
      policiesOf(props.worker.config),
      props.alarmTopic,
    );
  }
}
