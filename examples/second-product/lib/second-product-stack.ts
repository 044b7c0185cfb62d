import { Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { BucketTable, ProductAcquireMetrics, RateLimitedWorker } from 'sluice-aws/constructs';
import { ProductFunction } from './product-function';
import { ProductOutcomes } from './product-outcomes';

export interface SecondProductStackProps extends StackProps {
  /** The stage of the deployed Sluice stack whose quota this product shares. */
  readonly sluiceStage: string;
  /** This product's name: the label on every acquire (a short lowercase name). */
  readonly product: string;
  /** The vendor whose reference worker takes this product's queued work. */
  readonly vendor: string;
  readonly vendorBaseUrl: string;
  /** The Secrets Manager name of the vendor API key the synchronous caller sends. */
  readonly vendorSecretName: string;
}

/**
 * A second product in its own CDK app. It owns no bucket, work queue or worker (only the queue
 * its outcomes come back on): it finds the Sluice stack's table, worker queue and outcome topic
 * by stage (SSM parameters under /sluice/<stage>/) and is granted exactly what each of its
 * Lambdas does.
 */
export class SecondProductStack extends Stack {
  readonly syncCall: ProductFunction;
  readonly enqueueWork: ProductFunction;
  readonly outcomes: ProductOutcomes;

  constructor(scope: Construct, id: string, props: SecondProductStackProps) {
    super(scope, id, props);
    const table = BucketTable.fromStage(this, 'SluiceBuckets', { stage: props.sluiceStage });
    const worker = RateLimitedWorker.fromStage(this, 'SluiceWorker', {
      stage: props.sluiceStage,
      vendor: props.vendor,
    });
    const secret = secretsmanager.Secret.fromSecretNameV2(this, 'VendorSecret', props.vendorSecretName);

    // Calls the vendor itself, inside a Sluice slot: needs the SDK caller's table actions and the key.
    this.syncCall = new ProductFunction(this, 'SyncCall', {
      source: 'sync-call',
      environment: {
        SLUICE_TABLE_NAME: table.tableName,
        SLUICE_PRODUCT: props.product,
        VENDOR_BASE_URL: props.vendorBaseUrl,
        VENDOR_SECRET_ARN: secret.secretArn,
      },
    });
    table.grantAcquire(this.syncCall.function);
    // Grants and retry-ins by product, counted from the SDK's log events (no metric code).
    new ProductAcquireMetrics(this, 'AcquireMetrics', { logGroup: this.syncCall.logGroup });
    // A name-imported secret has a partial ARN; Secrets Manager appends 6 random characters.
    this.syncCall.role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['secretsmanager:GetSecretValue'],
        resources: [`${secret.secretArn}-??????`],
      }),
    );

    // Hands work to the reference worker: needs only sqs:SendMessage on its queue.
    this.enqueueWork = new ProductFunction(this, 'EnqueueWork', {
      source: 'enqueue-work',
      environment: { WORK_QUEUE_URL: worker.queue.queueUrl, SLUICE_PRODUCT: props.product },
    });
    worker.grantEnqueue(this.enqueueWork.function);

    // Reads what became of that work: this product's own queue on the worker's outcome topic.
    this.outcomes = new ProductOutcomes(this, 'Outcomes', { worker, product: props.product });
  }
}
