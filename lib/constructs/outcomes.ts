import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { OutcomeAttr } from '../../lambda/contract';
import { SluiceError } from '../../lambda/sluice';

export interface OutcomesProps {
  /** The products that may subscribe (the stack configuration's `products`). */
  readonly products: readonly string[];
  /** Days before a claim-checked body expires. */
  readonly bodyRetentionDays: number;
  readonly removalPolicy: RemovalPolicy;
}

/** The key prefix of claim-checked bodies (lambda/outcomes/claim-check.ts `bodyKey`). */
const BODY_PREFIX = 'outcomes';

/**
 * Where message outcomes go (docs/worker.md, "Outcomes"): an SNS topic each product subscribes
 * its own SQS queue to, filtered on the `product` message attribute, and an S3 bucket for
 * answer bodies too large for the topic (the claim check). The topic is encrypted with the
 * AWS-managed SNS key and takes only TLS; the bucket is encrypted, TLS-only, private, and its
 * bodies expire after `bodyRetentionDays`.
 */
export class Outcomes extends Construct {
  readonly topic: sns.Topic;
  readonly bucket: s3.Bucket;
  private readonly products: ReadonlySet<string>;

  constructor(scope: Construct, id: string, props: OutcomesProps) {
    super(scope, id);
    this.products = new Set(props.products);
    this.topic = new sns.Topic(this, 'Topic', {
      enforceSSL: true,
      masterKey: kms.Alias.fromAliasName(this, 'SnsKey', 'alias/aws/sns'),
    });
    this.bucket = new s3.Bucket(this, 'Bodies', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [
        {
          expiration: Duration.days(props.bodyRetentionDays),
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
      removalPolicy: props.removalPolicy,
      // A disposable stage's bucket goes with the stack even when it holds bodies (CloudFormation
      // cannot delete a bucket that is not empty); any other stage keeps bucket and bodies.
      autoDeleteObjects: props.removalPolicy === RemovalPolicy.DESTROY,
    });
    // Subscriptions by SQS only, as the stack and subscribeProduct make them: no email or HTTP
    // endpoint of a same-account principal allowed to subscribe can carry the outcomes away.
    // Which principals may subscribe is the account's IAM (docs/worker.md, "Outcomes").
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'SubscribeBySqsOnly',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sns:Subscribe'],
        resources: [this.topic.topicArn],
        conditions: { StringNotEquals: { 'sns:Protocol': 'sqs' } },
      }),
    );
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Objects are written by the worker role only and expire within days; CloudTrail data events, not a second logging bucket, are the place to audit reads.',
    });
  }

  /**
   * Subscribes a product's queue with raw delivery (the SQS body is the outcome event) and a
   * filter policy on its name, so it receives only its own outcomes. The queue must be
   * encrypted with SSE-SQS or a customer key that lets sns.amazonaws.com use it.
   */
  subscribeProduct(product: string, queue: sqs.IQueue): void {
    if (!this.products.has(product)) {
      const known = [...this.products].join(', ') || 'none';
      throw new SluiceError(
        `subscribeProduct: "${product}" is not in the configuration's products (known: ${known})`,
      );
    }
    subscribeProductQueue(this.topic, product, queue);
  }

  /** sns:Publish on this topic only. */
  grantPublish(role: iam.IRole): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.topic.topicArn] }),
    );
  }

  /** s3:PutObject under the claim-check prefix only. */
  grantPutBodies(role: iam.IRole & Construct): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${BODY_PREFIX}/*`)],
      }),
    );
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${this.bucketLogicalId()}.Arn>/${BODY_PREFIX}/*]`,
      reason: 'Claim-checked bodies have one key per product and message id, under this prefix only.',
    });
  }

  /** s3:GetObject on one product's claim-checked bodies, for that product's reader. */
  grantReadBodies(grantee: iam.IGrantable, product: string): iam.Grant {
    return grantReadProductBodies(this.bucket, grantee, product, `<${this.bucketLogicalId()}.Arn>`);
  }

  private bucketLogicalId(): string {
    return Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket);
  }
}

/**
 * A product's queue on the outcome topic: raw delivery (the queue receives the event JSON
 * itself), filtered on the product's name, so a product receives only its own outcomes. Used
 * by the owning stack and by another app that imports the worker with `fromStage`.
 */
export function subscribeProductQueue(topic: sns.ITopic, product: string, queue: sqs.IQueue): void {
  topic.addSubscription(
    new subscriptions.SqsSubscription(queue, {
      rawMessageDelivery: true,
      filterPolicy: {
        [OutcomeAttr.product]: sns.SubscriptionFilter.stringFilter({ allowlist: [product] }),
      },
    }),
  );
}

/**
 * s3:GetObject on one product's claim-checked bodies (`outcomes/<product>/…`), the key a
 * `bodyRef` names: used by the owning stack and by another app that imports the worker with
 * `fromStage`. The bucket is SSE-S3, so the reader needs no KMS permission. The key wildcard is
 * acknowledged for cdk-nag on the grantee's role: `nagBucketArn` is the bucket's ARN as cdk-nag
 * prints it in the finding (`<Logical.Arn>`, or `arn:<AWS::Partition>:s3:::<Parameter>`).
 */
export function grantReadProductBodies(
  bucket: s3.IBucket,
  grantee: iam.IGrantable,
  product: string,
  nagBucketArn: string,
): iam.Grant {
  const grant = iam.Grant.addToPrincipal({
    grantee,
    actions: ['s3:GetObject'],
    resourceArns: [bucket.arnForObjects(`${BODY_PREFIX}/${product}/*`)],
  });
  if (grantee.grantPrincipal instanceof Construct) {
    Validations.of(grantee.grantPrincipal).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagBucketArn}/${BODY_PREFIX}/${product}/*]`,
      reason: `Claim-checked answers have one key per message id, under this product's prefix only.`,
    });
  }
  return grant;
}
