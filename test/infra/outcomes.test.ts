import { Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { resourceNamed, statementsOfRole, synthStack } from './synth';

/** The outcome topic and bucket, a product's subscription, the grants and the monitoring, for two products. */

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });
const products = { products: ['checkout', 'support'] };

describe('outcomes', () => {
  const { stack, template } = synthStack(products, (built) => {
    built.worker.subscribeProduct('checkout', new sqs.Queue(built, 'CheckoutOutcomes', { enforceSSL: true }));
  });
  const [topicId] = resourceNamed(template, 'AWS::SNS::Topic', 'WorkerOutcomesTopic');
  const [bucketId, bucket] = resourceNamed(template, 'AWS::S3::Bucket', 'WorkerOutcomesBodies');

  it('publishes to an encrypted topic that takes TLS only', () => {
    const [, topic] = resourceNamed(template, 'AWS::SNS::Topic', 'WorkerOutcomesTopic');
    expect(JSON.stringify(topic.KmsMasterKeyId)).toContain(':alias/aws/sns');
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('keeps claim-checked bodies in an encrypted, private, TLS-only bucket that expires them', () => {
    expect(bucket).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [expect.objectContaining({ ExpirationInDays: 7, Status: 'Enabled' })],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it("subscribes a product's queue with raw delivery and a filter on its name", () => {
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: topicId },
      RawMessageDelivery: true,
      FilterPolicy: { product: ['checkout'] },
    });
    expect(() => stack.worker.subscribeProduct('billing', new sqs.Queue(stack, 'Billing'))).toThrow(
      'subscribeProduct: "billing" is not in the configuration\'s products (known: checkout, support)',
    );
  });

  it('lets the worker publish to this topic and put bodies under the claim-check prefix, nothing more', () => {
    const [roleId] = resourceNamed(template, 'AWS::IAM::Role', 'WorkerRole');
    const statements = statementsOfRole(template, roleId);
    expect(statements).toEqual(
      expect.arrayContaining([
        { actions: ['sns:Publish'], resource: { Ref: topicId } },
        { actions: ['s3:PutObject'], resource: { 'Fn::Join': ['', [arnOf(bucketId), '/outcomes/*']] } },
      ]),
    );
    expect(
      statements.flatMap((statement) => statement.actions).filter((action) => /^(sns|s3):/.test(action)),
    ).toEqual(['sns:Publish', 's3:PutObject']);
    const [relayRoleId] = resourceNamed(template, 'AWS::IAM::Role', 'WorkerDeadLetterRelayRole');
    expect(statementsOfRole(template, relayRoleId)).toContainEqual({
      actions: ['sns:Publish'],
      resource: { Ref: topicId },
    });
  });

  it('tells the worker and the relay the products and where outcomes go', () => {
    const [, worker] = resourceNamed(template, 'AWS::Lambda::Function', 'WorkerFunction');
    expect((worker.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      SLUICE_PRODUCTS: 'checkout,support',
      SLUICE_OUTCOME_TOPIC_ARN: { Ref: topicId },
      SLUICE_OUTCOME_BUCKET: { Ref: bucketId },
    });
    const [, relay] = resourceNamed(template, 'AWS::Lambda::Function', 'WorkerDeadLetterRelayFunction');
    expect((relay.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      SLUICE_PRODUCTS: 'checkout,support',
      SLUICE_OUTCOME_TOPIC_ARN: { Ref: topicId },
    });
  });

  it('graphs outcomes by product and class, and alarms on a failed publish', () => {
    const [, dashboard] = resourceNamed(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard');
    // The body is a Fn::Join of JSON text around resource references: read it with the references blanked.
    const parts = (dashboard.DashboardBody as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
    const body = JSON.parse(parts.map((part) => (typeof part === 'string' ? part : 'ref')).join('')) as {
      widgets: { properties: { title: string; metrics: unknown[][] } }[];
    };
    const widget = body.widgets.find(
      (each) => each.properties.title === 'Outcomes published, by product and class',
    );
    expect(widget?.properties.metrics.map((metric) => metric.slice(0, 8))).toEqual(
      ['checkout', 'support'].flatMap((product) =>
        ['completed', 'dead_lettered'].map((outcome) => [
          'Sluice',
          'OutcomesPublished',
          'OutcomeClass',
          outcome,
          'Product',
          product,
          'service',
          'waitwhile',
        ]),
      ),
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OutcomePublishFailures',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('builds no topic, bucket or outcome alarm for a configuration without products', () => {
    const { stack: plain, template: none } = synthStack();
    none.resourceCountIs('AWS::SNS::Topic', 0);
    none.resourceCountIs('AWS::S3::Bucket', 0);
    expect(JSON.stringify(none.toJSON())).not.toContain('OutcomePublishFailures');
    expect(() => plain.worker.subscribeProduct('checkout', new sqs.Queue(plain, 'Q'))).toThrow(
      /lists no products/,
    );
  });
});
