import { Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { WorkerEnv } from '../../lambda/contract';
import type { StackConfig } from '../config';
import { type DerivedSettings, reconcilerEnvironment } from '../derived-settings';
import { removalPolicyFor } from './bucket-table';
import {
  circuitReadStatement,
  RECONCILER_TABLE_ACTIONS,
  sweepStatements,
  tableStatement,
} from './permissions';
import { SluiceFunction } from './sluice-function';

export interface ReconcilerFunctionProps {
  readonly table: dynamodb.ITable;
  readonly config: StackConfig;
  readonly derived: DerivedSettings;
}

/**
 * The sweep that returns the capacity of expired leases, run by EventBridge Scheduler. The
 * invocation is asynchronous and a tick may arrive twice, so: no retries, a short maximum
 * event age (a stale tick is worthless, the next one comes soon), and one run at a time.
 */
export class ReconcilerFunction extends Construct {
  readonly function: lambda.Function;
  readonly schedule: scheduler.Schedule;

  constructor(scope: Construct, id: string, props: ReconcilerFunctionProps) {
    super(scope, id);
    const { config, derived } = props;
    const reconciler = new SluiceFunction(this, 'Reconciler', {
      handler: 'reconciler',
      timeout: Duration.seconds(derived.reconcilerTimeoutSeconds),
      environment: {
        ...reconcilerEnvironment(config, derived, { tableName: props.table.tableName }),
        // Each run reports this vendor's circuit too, so its alarm does not wait for traffic.
        [WorkerEnv.circuitVendor]: config.vendor.name,
      },
      reservedConcurrentExecutions: 1,
      logRetentionDays: config.logRetentionDays,
      removalPolicy: removalPolicyFor(config.stage),
    });
    this.function = reconciler.function;
    reconciler.role.addToPolicy(tableStatement(props.table, RECONCILER_TABLE_ACTIONS));
    for (const statement of sweepStatements(props.table)) reconciler.role.addToPolicy(statement);
    reconciler.role.addToPolicy(circuitReadStatement(props.table, config.vendor.name));
    const maxEventAge = Duration.seconds(derived.reconcilerMaxEventAgeSeconds);
    // Lambda's own async queue would otherwise retry a throttled tick for up to 6 hours.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge });
    // Only schedules of this account may act as the role (the confused-deputy guard AWS documents
    // for EventBridge Scheduler's execution role).
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: scheduler.ScheduleExpression.rate(Duration.minutes(config.reconcilerEveryMinutes)),
      target: new targets.LambdaInvoke(this.function, { retryAttempts: 0, maxEventAge, role: schedulerRole }),
      description: `Reclaims expired Sluice leases every ${config.reconcilerEveryMinutes} minute(s)`,
    });
    Validations.of(schedulerRole).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.function.node.defaultChild as lambda.CfnFunction)}.Arn>:*]`,
      reason:
        'LambdaInvoke grants invoke on the function and its versions (ARN:*); it can invoke nothing else.',
    });
  }
}
