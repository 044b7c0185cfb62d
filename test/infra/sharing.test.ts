import { CfnOutput, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { parseStackConfig } from '../../lib/config';
import { BucketTable } from '../../lib/constructs/bucket-table';
import { ProductAcquireMetrics } from '../../lib/constructs/product-metrics';
import { RateLimitedWorker } from '../../lib/constructs/rate-limited-worker';
import { SluiceStack } from '../../lib/constructs/sluice-stack';
import { validConfig } from './fixtures';
import { resourceNamed, statementsOfRole, synthStack, testApp } from './synth';

type Resources = Record<string, { Properties: Record<string, unknown> }>;

const crmConfig = () =>
  parseStackConfig({
    stage: 'dev',
    vendorSecretName: 'sluice/crm/api-key',
    buckets: [{ dimension: 'crm#rps', limitType: 'requests', capacity: 10, windowSeconds: 1 }],
    vendor: { name: 'crm', baseUrl: 'https://api.crm.example' },
  });

/** Parameter name → the value CloudFormation stores, as the template writes it. */
function parameters(template: Template): Record<string, unknown> {
  const found = template.findResources('AWS::SSM::Parameter') as Resources;
  return Object.fromEntries(
    Object.values(found).map(({ Properties }) => [Properties.Name, Properties.Value]),
  );
}

/** A second product's app: its own stack and a role standing in for its Lambda. */
function productStack(): { stack: Stack; role: iam.Role } {
  const stack = new Stack(testApp(), 'Checkout');
  const role = new iam.Role(stack, 'CheckoutRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
  });
  return { stack, role };
}

/** The CloudFormation parameter that `valueForStringParameter` declared for an SSM name. */
function ssmReference(template: Template, name: string): { Ref: string } {
  const found = Object.entries(template.toJSON().Parameters as Record<string, { Default?: string }>).filter(
    ([, parameter]) => parameter.Default === name,
  );
  if (found.length !== 1) throw new Error(`expected one template parameter reading ${name}`);
  return { Ref: found[0]![0] };
}

describe('the shared resources, published for other CDK apps', () => {
  it('publishes the table and the worker queues under /sluice/<stage>/, addWorker workers too', () => {
    const { template } = synthStack({}, (stack) => stack.addWorker('Crm', crmConfig()));
    const ref = (prefix: string, type: string) => ({ Ref: resourceNamed(template, type, prefix)[0] });
    const arn = (prefix: string, type: string) => ({
      'Fn::GetAtt': [resourceNamed(template, type, prefix)[0], 'Arn'],
    });
    expect(parameters(template)).toEqual({
      '/sluice/dev/table/name': ref('Buckets', 'AWS::DynamoDB::Table'),
      '/sluice/dev/table/arn': arn('Buckets', 'AWS::DynamoDB::Table'),
      '/sluice/dev/workers/waitwhile/queue-url': ref('WorkerQueue', 'AWS::SQS::Queue'),
      '/sluice/dev/workers/waitwhile/queue-arn': arn('WorkerQueue', 'AWS::SQS::Queue'),
      '/sluice/dev/workers/waitwhile/dlq-url': ref('WorkerDeadLetterQueue', 'AWS::SQS::Queue'),
      '/sluice/dev/workers/crm/queue-url': ref('CrmQueue', 'AWS::SQS::Queue'),
      '/sluice/dev/workers/crm/queue-arn': arn('CrmQueue', 'AWS::SQS::Queue'),
      '/sluice/dev/workers/crm/dlq-url': ref('CrmDeadLetterQueue', 'AWS::SQS::Queue'),
    });
  });

  it('gives an addWorker worker the same outputs as the first one, prefixed with its id', () => {
    const { template } = synthStack({}, (stack) => stack.addWorker('Crm', crmConfig()));
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs).sort()).toEqual([
      'CrmDashboardName',
      'CrmDeadLetterQueueUrl',
      'CrmQueueUrl',
      'DashboardName',
      'DeadLetterQueueUrl',
      'QueueUrl',
      'TableName',
    ]);
    expect(outputs.CrmQueueUrl?.Value).toEqual({
      Ref: resourceNamed(template, 'AWS::SQS::Queue', 'CrmQueue')[0],
    });
  });

  it('BucketTable.fromStage + grantAcquire: exactly the SDK caller actions (bucket items only: test/infra/iam), on the table ARN read from SSM', () => {
    const { stack, role } = productStack();
    const table = BucketTable.fromStage(stack, 'Buckets', { stage: 'prod' });
    table.grantAcquire(role);
    new CfnOutput(stack, 'TableName', { value: table.tableName });
    const template = Template.fromStack(stack);
    expect(statementsOfRole(template, resourceNamed(template, 'AWS::IAM::Role', 'CheckoutRole')[0])).toEqual([
      ...bucketItemStatements(ssmReference(template, '/sluice/prod/table/arn')),
    ]);
    // The table name for SLUICE_TABLE_NAME comes from its own parameter.
    expect(stack.resolve(table.tableName)).toEqual(ssmReference(template, '/sluice/prod/table/name'));
  });

  it('RateLimitedWorker.fromStage + grantEnqueue: sqs:SendMessage on that vendor queue only', () => {
    const { stack, role } = productStack();
    const worker = RateLimitedWorker.fromStage(stack, 'Waitwhile', { stage: 'prod', vendor: 'waitwhile' });
    worker.grantEnqueue(role);
    new CfnOutput(stack, 'QueueUrl', { value: worker.queue.queueUrl });
    const template = Template.fromStack(stack);
    expect(statementsOfRole(template, resourceNamed(template, 'AWS::IAM::Role', 'CheckoutRole')[0])).toEqual([
      {
        actions: ['sqs:SendMessage'],
        resource: ssmReference(template, '/sluice/prod/workers/waitwhile/queue-arn'),
      },
    ]);
    expect(stack.resolve(worker.queue.queueUrl)).toEqual(
      ssmReference(template, '/sluice/prod/workers/waitwhile/queue-url'),
    );
  });

  it('publishes the outcome topic and the large-answer bucket of a worker whose configuration lists products', () => {
    const { template } = synthStack({ products: ['checkout', 'support'] });
    expect(parameters(template)['/sluice/dev/workers/waitwhile/outcome-topic-arn']).toEqual({
      Ref: resourceNamed(template, 'AWS::SNS::Topic', 'WorkerOutcomesTopic')[0],
    });
    expect(parameters(template)['/sluice/dev/workers/waitwhile/outcome-bucket-name']).toEqual({
      Ref: resourceNamed(template, 'AWS::S3::Bucket', 'WorkerOutcomesBodies')[0],
    });
  });

  it("RateLimitedWorker.fromStage + grantReadBodies: s3:GetObject on the product's own claim-checked answers only", () => {
    const { stack, role } = productStack();
    const worker = RateLimitedWorker.fromStage(stack, 'Waitwhile', { stage: 'prod', vendor: 'waitwhile' });
    worker.grantReadBodies(role, 'checkout');
    const template = Template.fromStack(stack);
    const [statement, ...others] = statementsOfRole(
      template,
      resourceNamed(template, 'AWS::IAM::Role', 'CheckoutRole')[0],
    );
    expect(others).toEqual([]);
    expect(statement?.actions).toEqual(['s3:GetObject']);
    const resource = JSON.stringify(statement?.resource);
    expect(resource).toContain(
      JSON.stringify(ssmReference(template, '/sluice/prod/workers/waitwhile/outcome-bucket-name')),
    );
    expect(resource).toContain('/outcomes/checkout/*');
  });

  it("RateLimitedWorker.fromStage + subscribeProduct: the product's queue on the published topic, its own outcomes only", () => {
    const { stack } = productStack();
    const worker = RateLimitedWorker.fromStage(stack, 'Waitwhile', { stage: 'prod', vendor: 'waitwhile' });
    const queue = new sqs.Queue(stack, 'CheckoutOutcomes', { enforceSSL: true });
    worker.subscribeProduct('checkout', queue);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: ssmReference(template, '/sluice/prod/workers/waitwhile/outcome-topic-arn'),
      RawMessageDelivery: true,
      FilterPolicy: { product: ['checkout'] },
    });
    // The queue lets that topic, and only it, send to it.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'sqs:SendMessage',
            Condition: {
              ArnEquals: {
                'aws:SourceArn': ssmReference(template, '/sluice/prod/workers/waitwhile/outcome-topic-arn'),
              },
            },
          }),
        ]),
      }),
    });
  });

  it('grants the same on the owning stack: grantAcquire and grantEnqueue on the real table and queue', () => {
    const { template } = synthStack({}, (stack) => {
      const role = new iam.Role(stack, 'ProductRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      });
      stack.table.grantAcquire(role);
      stack.worker.grantEnqueue(role);
    });
    const arn = (prefix: string, type: string) => ({
      'Fn::GetAtt': [resourceNamed(template, type, prefix)[0], 'Arn'],
    });
    expect(statementsOfRole(template, resourceNamed(template, 'AWS::IAM::Role', 'ProductRole')[0])).toEqual([
      ...bucketItemStatements(arn('Buckets', 'AWS::DynamoDB::Table')),
      { actions: ['sqs:SendMessage'], resource: arn('WorkerQueue', 'AWS::SQS::Queue') },
    ]);
  });
});

describe('acquire metrics by product, from the SDK log events', () => {
  it('counts acquire.granted and acquire.retry_in that carry a product, with the product as the dimension', () => {
    const stack = new Stack(testApp(), 'Checkout');
    const logGroup = new logs.LogGroup(stack, 'Logs');
    new ProductAcquireMetrics(stack, 'ByProduct', { logGroup });
    const filters = Template.fromStack(stack).findResources('AWS::Logs::MetricFilter') as Resources;
    expect(
      Object.values(filters)
        .map(({ Properties }) => Properties)
        .map((p) => ({ pattern: p.FilterPattern, metric: p.MetricTransformations })),
    ).toEqual(
      ['acquire.granted', 'acquire.retry_in'].map((event, i) => ({
        pattern: `{ ($.message = "${event}") && ($.product = "*") }`,
        metric: [
          {
            MetricNamespace: 'Sluice',
            MetricName: ['Grants', 'RetryIns'][i],
            MetricValue: '1',
            Dimensions: [{ Key: 'Product', Value: '$.product' }],
          },
        ],
      })),
    );
  });
});

describe('a vendor secret under a customer-managed KMS key', () => {
  const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
  const decryptsOf = (template: Template) =>
    statementsOfRole(template, resourceNamed(template, 'AWS::IAM::Role', 'WorkerRole')[0]).filter(
      (statement) => statement.actions.includes('kms:Decrypt'),
    );

  it('lets the worker decrypt with that key only', () => {
    const stack = new SluiceStack(testApp(), 'Sluice-kms', {
      config: parseStackConfig(validConfig()),
      secretKey: kms.Key.fromKeyArn(new Stack(testApp(), 'Keys'), 'SecretKey', keyArn),
    });
    expect(decryptsOf(Template.fromStack(stack))).toEqual([{ actions: ['kms:Decrypt'], resource: keyArn }]);
    const policy = JSON.stringify(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    expect(policy).toContain('"kms:ViaService"');
  });

  it('takes the key from the configuration (secretKmsKeyArn), so the shipped app can pass one', () => {
    expect(decryptsOf(synthStack({ secretKmsKeyArn: keyArn }).template)).toEqual([
      { actions: ['kms:Decrypt'], resource: keyArn },
    ]);
    // A key given to the construct wins over the configuration's.
    const other = 'arn:aws:kms:eu-west-1:111122223333:key/00000000-1111-2222-3333-444444444444';
    const stack = new SluiceStack(testApp(), 'Sluice-kms-both', {
      config: parseStackConfig(validConfig({ secretKmsKeyArn: keyArn })),
      secretKey: kms.Key.fromKeyArn(new Stack(testApp(), 'Keys'), 'SecretKey', other),
    });
    expect(decryptsOf(Template.fromStack(stack))).toEqual([{ actions: ['kms:Decrypt'], resource: other }]);
  });

  it('refuses an alias or anything else that is not a key ARN', () => {
    expect(() => parseStackConfig(validConfig({ secretKmsKeyArn: 'alias/my-key' }))).toThrow(
      /secretKmsKeyArn: must be a KMS key ARN/,
    );
  });

  it('grants no KMS action when the secret uses the AWS-managed key', () => {
    expect(decryptsOf(synthStack().template)).toEqual([]);
  });
});

/** grantAcquire's two statements (their `dynamodb:LeadingKeys` conditions: test/infra/iam/role-policies.unit.test.ts). */
function bucketItemStatements(resource: unknown) {
  return [
    { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'], resource },
    { actions: ['dynamodb:PutItem'], resource },
  ];
}
