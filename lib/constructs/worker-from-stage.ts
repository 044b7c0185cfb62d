import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { grantReadProductBodies, subscribeProductQueue } from './outcomes';
import { SluiceParameterNames } from './stage-parameters';

/**
 * A worker as another CDK app sees it: what a product needs of it, and the worker of a deployed
 * Sluice stack found through the parameters that stack published (`RateLimitedWorker.fromStage`).
 */

/** What a producer needs of a worker, whether this app owns it or imports it. */
export interface IRateLimitedWorker {
  readonly queue: sqs.IQueue;
  /** What `enqueue` (sluice-aws/producer) needs: send messages to the worker's queue. */
  grantEnqueue(grantee: iam.IGrantable): iam.Grant;
  /** Subscribes a product's queue to its own outcomes (raw delivery, filtered on the product). */
  subscribeProduct(product: string, queue: sqs.IQueue): void;
  /**
   * Lets a product's outcome reader fetch the answer bodies too large for the topic: an
   * outcome's `bodyRef` names a key under `outcomes/<product>/` of the outcome bucket.
   */
  grantReadBodies(grantee: iam.IGrantable, product: string): iam.Grant;
}

export interface RateLimitedWorkerFromStageProps {
  /** The stage of the Sluice stack that owns the worker, e.g. `dev`. */
  readonly stage: string;
  /** The worker's vendor name (`vendor.name` of its configuration), e.g. `waitwhile`. */
  readonly vendor: string;
}

/**
 * `enqueue` sends with SendMessageBatch, whose IAM action is sqs:SendMessage. The queues use
 * SQS-managed encryption, so a producer needs no KMS permission.
 */
export function grantEnqueueTo(queue: sqs.IQueue, grantee: iam.IGrantable): iam.Grant {
  return iam.Grant.addToPrincipal({ grantee, actions: ['sqs:SendMessage'], resourceArns: [queue.queueArn] });
}

export class ImportedRateLimitedWorker extends Construct implements IRateLimitedWorker {
  readonly queue: sqs.IQueue;
  private outcomeTopic?: sns.ITopic;
  private outcomeBucket?: s3.IBucket;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RateLimitedWorkerFromStageProps,
  ) {
    super(scope, id);
    const read = (name: string) => ssm.StringParameter.valueForStringParameter(this, name);
    this.queue = sqs.Queue.fromQueueAttributes(this, 'Queue', {
      queueArn: read(SluiceParameterNames.queueArn(props.stage, props.vendor)),
      queueUrl: read(SluiceParameterNames.queueUrl(props.stage, props.vendor)),
    });
  }

  grantEnqueue(grantee: iam.IGrantable): iam.Grant {
    return grantEnqueueTo(this.queue, grantee);
  }

  /**
   * The subscription lives in the importing app's stack, on the topic whose ARN the Sluice stack
   * published; the filter is what keeps other products' outcomes out. Which products exist is
   * the Sluice stack's configuration: a product it does not list never receives anything.
   */
  subscribeProduct(product: string, queue: sqs.IQueue): void {
    this.outcomeTopic ??= sns.Topic.fromTopicArn(
      this,
      'OutcomeTopic',
      ssm.StringParameter.valueForStringParameter(
        this,
        SluiceParameterNames.outcomeTopicArn(this.props.stage, this.props.vendor),
      ),
    );
    subscribeProductQueue(this.outcomeTopic, product, queue);
  }

  grantReadBodies(grantee: iam.IGrantable, product: string): iam.Grant {
    const bucketName = ssm.StringParameter.valueForStringParameter(
      this,
      SluiceParameterNames.outcomeBucketName(this.props.stage, this.props.vendor),
    );
    this.outcomeBucket ??= s3.Bucket.fromBucketName(this, 'OutcomeBodies', bucketName);
    const parameter = (Stack.of(this).resolve(bucketName) as { Ref: string }).Ref;
    return grantReadProductBodies(
      this.outcomeBucket,
      grantee,
      product,
      `arn:<AWS::Partition>:s3:::<${parameter}>`,
    );
  }
}
