import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StackConfig } from '../config';
import { type DerivedSettings, deadLetterRelayEnvironment } from '../derived-settings';
import { removalPolicyFor } from './bucket-table';
import type { Outcomes } from './outcomes';
import { tableStatement } from './permissions';
import { SluiceFunction } from './sluice-function';

/** The relay writes dead-lettered idempotency records and marks their outcome published. */
export const RELAY_TABLE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

const RELAY_TIMEOUT_SECONDS = 30;
/** A relay that keeps failing on a message leaves it in the DLQ as SQS moved it (no reason). */
const RELAY_MAX_RECEIVE_COUNT = 5;

export interface DeadLetterRelayProps {
  readonly table: dynamodb.ITable;
  readonly deadLetterQueue: sqs.IQueue;
  readonly config: StackConfig;
  readonly derived: DerivedSettings;
  readonly outcomes?: Outcomes;
}

/**
 * The work queue's redrive target: a queue and a small Lambda that move what SQS redrives to
 * the DLQ with the reason `redrive_max_receive_count`, and publish its dead_lettered outcome
 * (lambda/relay/dead-letter-relay.ts). So every DLQ entry has a reason, and a message the
 * worker never saw still reaches its product.
 */
export class DeadLetterRelay extends Construct {
  readonly queue: sqs.Queue;
  readonly function: NodejsFunction;

  constructor(scope: Construct, id: string, props: DeadLetterRelayProps) {
    super(scope, id);
    const { config, derived } = props;
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(RELAY_TIMEOUT_SECONDS * 6),
      retentionPeriod: Duration.seconds(derived.dlqRetentionSeconds),
      deadLetterQueue: { queue: props.deadLetterQueue, maxReceiveCount: RELAY_MAX_RECEIVE_COUNT },
    });
    const relay = new SluiceFunction(this, 'Relay', {
      handler: 'dead-letter-relay',
      timeout: Duration.seconds(RELAY_TIMEOUT_SECONDS),
      environment: deadLetterRelayEnvironment(config, derived, {
        tableName: props.table.tableName,
        dlqUrl: props.deadLetterQueue.queueUrl,
        ...(props.outcomes ? { outcomeTopicArn: props.outcomes.topic.topicArn } : {}),
      }),
      logRetentionDays: config.logRetentionDays,
      removalPolicy: removalPolicyFor(config.stage),
    });
    this.function = relay.function;
    relay.role.addToPolicy(tableStatement(props.table, RELAY_TABLE_ACTIONS));
    relay.role.addToPolicy(
      new iam.PolicyStatement({ actions: ['sqs:SendMessage'], resources: [props.deadLetterQueue.queueArn] }),
    );
    props.outcomes?.grantPublish(relay.role);
    this.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
  }
}
