import { CfnOutput, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import type { StackConfig } from '../config';
import { BucketTable } from './bucket-table';
import { SluiceMonitoring } from './monitoring/sluice-monitoring';
import { RateLimitedWorker } from './rate-limited-worker';
import { ReconcilerFunction } from './reconciler-function';

export interface SluiceStackProps extends StackProps {
  /** A validated configuration (loadStackConfig / parseStackConfig). */
  readonly config: StackConfig;
  /** The customer-managed KMS key of the vendor secret, if any (the worker gets kms:Decrypt). */
  readonly secretKey?: kms.IKey;
}

export interface AddWorkerOptions {
  /** The customer-managed KMS key of this vendor's secret, if any. */
  readonly secretKey?: kms.IKey;
}

/**
 * The bucket table, one rate-limited worker, the reconciler, the dashboard and the alarms. The
 * table and each worker's queues are published as SSM parameters under `/sluice/<stage>/`
 * (stage-parameters.ts) for products in other CDK apps.
 */
export class SluiceStack extends Stack {
  readonly table: BucketTable;
  readonly worker: RateLimitedWorker;
  readonly reconciler: ReconcilerFunction;
  readonly monitoring: SluiceMonitoring;
  /** Where alarms send their actions, if the configuration names one. */
  readonly alarmTopic?: sns.ITopic;

  constructor(scope: Construct, id: string, props: SluiceStackProps) {
    super(scope, id, props);
    const { config } = props;
    this.table = new BucketTable(this, 'Buckets', { stage: config.stage });
    this.worker = new RateLimitedWorker(this, 'Worker', {
      table: this.table.table,
      config,
      secretKey: props.secretKey,
    });
    this.reconciler = new ReconcilerFunction(this, 'Reconciler', {
      table: this.table.table,
      config,
      derived: this.worker.derived,
    });
    this.alarmTopic = this.createAlarmTopic(config);
    this.monitoring = new SluiceMonitoring(this, 'Monitoring', {
      worker: this.worker,
      reconciler: this.reconciler,
      alarmTopic: this.alarmTopic,
    });

    new CfnOutput(this, 'QueueUrl', { value: this.worker.queue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: this.worker.deadLetterQueue.queueUrl });
    new CfnOutput(this, 'TableName', { value: this.table.table.tableName });
    new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });
  }

  /**
   * Adds a rate-limited worker for another vendor against the same table, with its own
   * queue, DLQ, bucket seeding, dashboard and alarms (the reconciler is shared).
   */
  addWorker(
    id: string,
    config: StackConfig,
    options: AddWorkerOptions = {},
  ): { worker: RateLimitedWorker; monitoring: SluiceMonitoring } {
    const worker = new RateLimitedWorker(this, id, {
      table: this.table.table,
      config,
      secretKey: options.secretKey,
    });
    const monitoring = new SluiceMonitoring(this, `${id}Monitoring`, { worker, alarmTopic: this.alarmTopic });
    // The same outputs as the first worker's, prefixed with the id (the SSM parameters come with the worker).
    new CfnOutput(this, `${id}QueueUrl`, { value: worker.queue.queueUrl });
    new CfnOutput(this, `${id}DeadLetterQueueUrl`, { value: worker.deadLetterQueue.queueUrl });
    new CfnOutput(this, `${id}DashboardName`, { value: monitoring.dashboard.dashboardName });
    return { worker, monitoring };
  }

  private createAlarmTopic(config: StackConfig): sns.ITopic | undefined {
    if (config.alarmTopicArn) return sns.Topic.fromTopicArn(this, 'AlarmTopic', config.alarmTopicArn);
    if (!config.alarmEmail) return undefined;
    const topic = new sns.Topic(this, 'AlarmTopic', { enforceSSL: true });
    topic.addSubscription(new subscriptions.EmailSubscription(config.alarmEmail));
    Validations.of(topic).acknowledge({
      id: 'AwsSolutions-SNS2',
      reason:
        'CloudWatch alarms cannot publish to a topic encrypted with the AWS-managed SNS key, and alarm texts hold no secrets.',
    });
    return topic;
  }
}
