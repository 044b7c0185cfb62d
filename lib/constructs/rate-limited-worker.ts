import { Annotations, Duration, Stack, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { WorkerEnv } from '../../lambda/contract';
import { SluiceError } from '../../lambda/sluice';
import type { StackConfig } from '../config';
import { type DerivedSettings, deriveSettings, workerEnvironment } from '../derived-settings';
import { poolWarnings } from '../sizing';
import { BucketSeeding } from './bucket-seeding';
import { removalPolicyFor } from './bucket-table';
import { DeadLetterRelay } from './dead-letter-relay';
import { Outcomes } from './outcomes';
import { tableStatement, WORKER_TABLE_ACTIONS } from './permissions';
import { SluiceFunction } from './sluice-function';
import {
  grantEnqueueTo,
  ImportedRateLimitedWorker,
  type IRateLimitedWorker,
  type RateLimitedWorkerFromStageProps,
} from './worker-from-stage';

export type { IRateLimitedWorker, RateLimitedWorkerFromStageProps } from './worker-from-stage';

import { SluiceParameterNames } from './stage-parameters';

export interface RateLimitedWorkerProps {
  /** The bucket table, shared by every worker. */
  readonly table: dynamodb.ITable;
  /** The validated configuration of this worker's vendor (loadStackConfig). */
  readonly config: StackConfig;
  /**
   * Upsert `config.buckets` into the table at deploy time.
   * @default true
   */
  readonly seedBuckets?: boolean;
  /**
   * The customer-managed KMS key the vendor secret is encrypted with; the worker gets
   * `kms:Decrypt` on it, through Secrets Manager only. Not needed for the AWS-managed key.
   * Wins over the configuration's `secretKmsKeyArn`.
   * @default - the configuration's `secretKmsKeyArn`, else the AWS-managed key `aws/secretsmanager`
   */
  readonly secretKey?: kms.IKey;
  /**
   * Publish the queue's URL and ARN and the DLQ's URL as SSM parameters under
   * `/sluice/<stage>/workers/<vendor>/`, so products in other apps find them with
   * `RateLimitedWorker.fromStage`.
   * @default true
   */
  readonly publish?: boolean;
}

/**
 * A queue, its DLQ and the worker that drains it against one vendor: one environment
 * (reserved concurrency 1) running each batch through a pool of at most vendor.maxInFlight calls.
 * Reusable: a second vendor gets its own queue and worker against the same table with
 * `new RateLimitedWorker(stack, 'Crm', { table, config: loadStackConfig('config/crm.json') })`.
 */
export class RateLimitedWorker extends Construct implements IRateLimitedWorker {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly function: lambda.Function;
  readonly derived: DerivedSettings;
  readonly config: StackConfig;
  readonly seeding?: BucketSeeding;
  /** The work queue's redrive target: names and publishes what SQS redrives, then moves it to the DLQ. */
  readonly deadLetterRelay: DeadLetterRelay;
  /** The outcome topic and claim-check bucket; absent when the configuration lists no products. */
  readonly outcomes?: Outcomes;

  /**
   * The worker of `vendor` in the Sluice stack deployed as `stage`, found through its SSM
   * parameters (resolved by CloudFormation at deploy time), for a producer in another CDK app.
   */
  static fromStage(scope: Construct, id: string, props: RateLimitedWorkerFromStageProps): IRateLimitedWorker {
    return new ImportedRateLimitedWorker(scope, id, props);
  }

  constructor(scope: Construct, id: string, props: RateLimitedWorkerProps) {
    super(scope, id);
    const { config, table } = props;
    this.config = config;
    this.derived = deriveSettings(config);
    const removalPolicy = removalPolicyFor(config.stage);

    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.seconds(this.derived.dlqRetentionSeconds),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue; messages end here with a reason attribute.',
    });
    if (config.products.length > 0) {
      this.outcomes = new Outcomes(this, 'Outcomes', {
        products: config.products,
        bodyRetentionDays: config.outcomeBodyRetentionDays,
        removalPolicy,
      });
    }
    this.deadLetterRelay = new DeadLetterRelay(this, 'DeadLetterRelay', {
      table,
      deadLetterQueue: this.deadLetterQueue,
      config,
      derived: this.derived,
      ...(this.outcomes ? { outcomes: this.outcomes } : {}),
    });
    // Visibility 6× the timeout and maxReceiveCount ≥ 5: reserved concurrency 1 throttles the
    // extra SQS pollers, and each throttled receive counts toward the DLQ (docs/deploy.md). SQS's
    // redrive goes through the relay, which gives the message its reason and its outcome.
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(this.derived.visibilityTimeoutSeconds),
      retentionPeriod: Duration.seconds(this.derived.queueRetentionSeconds),
      deadLetterQueue: { queue: this.deadLetterRelay.queue, maxReceiveCount: this.derived.maxReceiveCount },
    });

    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'VendorSecret', config.vendorSecretName);
    const worker = new SluiceFunction(this, 'Worker', {
      handler: 'worker',
      timeout: Duration.seconds(this.derived.lambdaTimeoutSeconds),
      environment: workerEnvironment(config, this.derived, {
        tableName: table.tableName,
        queueUrl: this.queue.queueUrl,
        dlqUrl: this.deadLetterQueue.queueUrl,
        secretArn: secret.secretArn,
        ...(this.outcomes
          ? { outcomeTopicArn: this.outcomes.topic.topicArn, outcomeBucket: this.outcomes.bucket.bucketName }
          : {}),
      }),
      // One environment at a time; inside it a bounded pool (vendor.maxInFlight) of calls that
      // each acquire first, so the buckets, not the environment count, decide what runs.
      reservedConcurrentExecutions: 1,
      // The worker requeues to its own queue on purpose and bounds attempts and age itself.
      recursiveLoop: lambda.RecursiveLoop.ALLOW,
      logRetentionDays: config.logRetentionDays,
      removalPolicy,
    });
    this.function = worker.function;
    // Only the worker's own copies (SenderId of its role) carry sluice-* attributes that count.
    worker.function.addEnvironment(
      WorkerEnv.ownSenderIds,
      (worker.role.node.defaultChild as iam.CfnRole).attrRoleId,
    );
    worker.role.addToPolicy(tableStatement(table, WORKER_TABLE_ACTIONS));
    worker.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn, this.deadLetterQueue.queueArn],
      }),
    );
    if (this.outcomes) {
      this.outcomes.grantPublish(worker.role);
      this.outcomes.grantPutBodies(worker.role);
    }
    // A name-imported secret has a partial ARN; Secrets Manager appends 6 random characters.
    worker.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [`${secret.secretArn}-??????`],
      }),
    );
    // The batch feeds the worker's pool of vendor.maxInFlight calls: over 10 records needs a
    // batching window (docs/deploy.md, "Sizing the pool").
    this.function.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: config.batchSize,
        ...(config.maxBatchingWindowSeconds > 0
          ? { maxBatchingWindow: Duration.seconds(config.maxBatchingWindowSeconds) }
          : {}),
        reportBatchItemFailures: true,
      }),
    );
    for (const [index, warning] of poolWarnings(config).entries()) {
      Annotations.of(this).addWarningV2(`sluice:pool-sizing-${index}`, warning);
    }

    // The configuration's key ARN serves the shipped app (bin/), which passes no construct props.
    const secretKeyArn = props.secretKey?.keyArn ?? config.secretKmsKeyArn;
    if (secretKeyArn !== undefined) {
      // Secrets Manager decrypts on the worker's behalf; the key is usable for nothing else.
      worker.role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['kms:Decrypt'],
          resources: [secretKeyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
          },
        }),
      );
    }

    if (props.publish ?? true) this.publishParameters();

    if (props.seedBuckets ?? true) {
      this.seeding = new BucketSeeding(this, 'Seeding', { table, config, derived: this.derived });
    }
  }

  grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return grantEnqueueTo(this.queue, grantee);
  }

  /**
   * Subscribes a product's queue to its outcomes (`worker.subscribeProduct('checkout', queue)`):
   * raw delivery, filtered on the product's name. The product must be in the configuration.
   */
  subscribeProduct(product: string, queue: sqs.IQueue): void {
    if (!this.outcomes) {
      throw new SluiceError(
        `subscribeProduct: the configuration lists no products, so ${this.node.path} publishes no outcomes`,
      );
    }
    this.outcomes.subscribeProduct(product, queue);
  }

  grantReadBodies(grantee: iam.IGrantable, product: string): iam.Grant {
    if (!this.outcomes) {
      throw new SluiceError(
        `grantReadBodies: the configuration lists no products, so ${this.node.path} publishes no outcomes`,
      );
    }
    return this.outcomes.grantReadBodies(grantee, product);
  }

  private publishParameters(): void {
    const { stage, vendor } = this.config;
    const parameters = {
      QueueUrlParameter: [SluiceParameterNames.queueUrl(stage, vendor.name), this.queue.queueUrl],
      QueueArnParameter: [SluiceParameterNames.queueArn(stage, vendor.name), this.queue.queueArn],
      DeadLetterQueueUrlParameter: [
        SluiceParameterNames.deadLetterQueueUrl(stage, vendor.name),
        this.deadLetterQueue.queueUrl,
      ],
      ...(this.outcomes
        ? {
            OutcomeTopicArnParameter: [
              SluiceParameterNames.outcomeTopicArn(stage, vendor.name),
              this.outcomes.topic.topicArn,
            ],
            OutcomeBucketNameParameter: [
              SluiceParameterNames.outcomeBucketName(stage, vendor.name),
              this.outcomes.bucket.bucketName,
            ],
          }
        : {}),
    } as const;
    for (const [id, [parameterName, stringValue]] of Object.entries(parameters)) {
      new ssm.StringParameter(this, id, { parameterName, stringValue });
    }
  }
}
