import { Duration, Validations } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { IRateLimitedWorker } from 'sluice-aws/constructs';
import { ProductFunction } from './product-function';

export interface ProductOutcomesProps {
  /** The Sluice worker this product enqueues to (`RateLimitedWorker.fromStage`). */
  readonly worker: IRateLimitedWorker;
  /** This product's name: the subscription lets only its outcomes through. */
  readonly product: string;
}

/** Deliveries of an outcome the reader cannot read before it moves to the DLQ. */
const MAX_RECEIVE_COUNT = 5;

/**
 * Where this product's outcomes come back: its own queue on the worker's outcome topic (raw
 * delivery, filtered on the product's name by `subscribeProduct`), a DLQ for outcomes its
 * reader cannot read, and the reader itself, fed by the queue with partial batch responses.
 */
export class ProductOutcomes extends Construct {
  readonly queue: sqs.Queue;
  readonly deadLetterQueue: sqs.Queue;
  readonly reader: ProductFunction;

  constructor(scope: Construct, id: string, props: ProductOutcomesProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This is the dead-letter queue of the outcome queue: unreadable outcomes end here.',
    });
    this.reader = new ProductFunction(this, 'Reader', {
      source: 'read-outcomes',
      environment: { SLUICE_PRODUCT: props.product },
    });
    // SSE-SQS, not the AWS-managed KMS key: SNS can deliver to it without a key policy. Six
    // times the reader's timeout, as Lambda advises for a queue it polls.
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(
        6 * (this.reader.function.timeout ?? Duration.seconds(3)).toSeconds(),
      ),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    props.worker.subscribeProduct(props.product, this.queue);
    // s3:GetObject on this product's claim-checked answers only (outcomes/<product>/*).
    props.worker.grantReadBodies(this.reader.function, props.product);
    // Receive, delete and change visibility on this queue only; a failed item stays for redelivery.
    this.reader.function.addEventSource(
      new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }),
    );
  }
}
