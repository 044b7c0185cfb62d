import { Match } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { parseStackConfig } from '../../lib/config';
import { SLUICE_RUNTIME } from '../../lib/constructs/sluice-function';
import { resourceNamed, statementsOfRole, synthStack } from './synth';

const ref = (id: string) => ({ Ref: id });
const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('the worker', () => {
  const { template } = synthStack();
  const [, worker] = resourceNamed(template, 'AWS::Lambda::Function', 'WorkerFunction');

  it('runs one invocation at a time on arm64 with the newest Node.js in aws-cdk-lib', () => {
    const newest = Object.values(lambda.Runtime)
      .filter((runtime): runtime is lambda.Runtime => runtime instanceof lambda.Runtime)
      .map((runtime) => runtime.name)
      .filter((name) => /^nodejs\d+\.x$/.test(name))
      .sort((a, b) => Number.parseInt(b.slice(6), 10) - Number.parseInt(a.slice(6), 10))[0];
    expect(SLUICE_RUNTIME.name).toBe(newest);
    expect({
      reserved: worker.ReservedConcurrentExecutions,
      architectures: worker.Architectures,
      runtime: worker.Runtime,
      timeout: worker.Timeout,
      recursiveLoop: worker.RecursiveLoop,
    }).toEqual({
      reserved: 1,
      architectures: ['arm64'],
      runtime: newest,
      timeout: 60,
      recursiveLoop: 'Allow',
    });
  });

  it('gets the derived timeouts and every resource name through its environment', () => {
    const { Variables } = worker.Environment as { Variables: Record<string, unknown> };
    expect(Variables).toEqual({
      SLUICE_TABLE_NAME: ref(resourceNamed(template, 'AWS::DynamoDB::Table', 'Buckets')[0]),
      SLUICE_LEASE_TTL: '70',
      SLUICE_MAX_RETRIES: '3',
      SLUICE_DEFAULT_SLOT_TIMEOUT: '55',
      SLUICE_INLINE_RETRY_THRESHOLD: '5',
      SLUICE_LOG_LEVEL: 'INFO',
      POWERTOOLS_METRICS_NAMESPACE: 'Sluice',
      POWERTOOLS_SERVICE_NAME: 'waitwhile',
      SLUICE_QUEUE_URL: ref(resourceNamed(template, 'AWS::SQS::Queue', 'WorkerQueue')[0]),
      SLUICE_DLQ_URL: ref(resourceNamed(template, 'AWS::SQS::Queue', 'WorkerDeadLetterQueue')[0]),
      SLUICE_VENDOR_SECRET_ARN: {
        'Fn::Join': [
          '',
          [
            'arn:',
            ref('AWS::Partition'),
            ':secretsmanager:',
            ref('AWS::Region'),
            ':',
            ref('AWS::AccountId'),
            ':secret:sluice/waitwhile/api-key',
          ],
        ],
      },
      SLUICE_VENDOR_SETTINGS: expect.stringMatching(/^\{"name":"waitwhile","baseUrl":/),
      SLUICE_LAMBDA_TIMEOUT: '60',
      SLUICE_MAX_RECEIVE_COUNT: '10',
      // Its own role's principal id: only its own copies' sluice-* attributes count.
      SLUICE_OWN_SENDER_IDS: {
        'Fn::GetAtt': [resourceNamed(template, 'AWS::IAM::Role', 'WorkerRole')[0], 'RoleId'],
      },
      NODE_OPTIONS: '--enable-source-maps',
    });
  });

  it('gives Lambda the configured log level for application logs, so DEBUG is not filtered out', () => {
    const levels = (template: ReturnType<typeof synthStack>['template']) =>
      ['WorkerFunction', 'ReconcilerFunction', 'WorkerSeedingSeederFunction'].map((name) => {
        const [, fn] = resourceNamed(template, 'AWS::Lambda::Function', name);
        return fn.LoggingConfig;
      });
    const json = { LogFormat: 'JSON', ApplicationLogLevel: 'DEBUG' };
    expect(levels(synthStack({ logLevel: 'DEBUG' }).template)).toEqual([
      expect.objectContaining(json),
      expect.objectContaining(json),
      expect.objectContaining(json),
    ]);
    expect(
      levels(synthStack().template).map(
        (config) => (config as { ApplicationLogLevel?: string }).ApplicationLogLevel,
      ),
    ).toEqual(['INFO', 'INFO', 'INFO']);
  });

  it('derives every timeout again when the Lambda timeout changes', () => {
    const { template: slower } = synthStack({ lambdaTimeoutSeconds: 300 });
    const [, fn] = resourceNamed(slower, 'AWS::Lambda::Function', 'WorkerFunction');
    const [, queue] = resourceNamed(slower, 'AWS::SQS::Queue', 'WorkerQueue');
    const variables = (fn.Environment as { Variables: Record<string, string> }).Variables;
    expect([
      fn.Timeout,
      variables.SLUICE_DEFAULT_SLOT_TIMEOUT,
      variables.SLUICE_LEASE_TTL,
      queue.VisibilityTimeout,
    ]).toEqual([300, '295', '310', 1_800]);
  });

  it('drains its queue in batches and reports partial batch failures', () => {
    // The default batch: what the slot starts at the 1/s bucket, gathered within 1 s.
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 35,
      MaximumBatchingWindowInSeconds: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      EventSourceArn: arnOf(resourceNamed(template, 'AWS::SQS::Queue', 'WorkerQueue')[0]),
    });
  });

  it('may call exactly the table actions, send to its own queues and read its one secret', () => {
    const [roleId] = resourceNamed(template, 'AWS::IAM::Role', 'WorkerRole');
    const table = resourceNamed(template, 'AWS::DynamoDB::Table', 'Buckets')[0];
    const queue = resourceNamed(template, 'AWS::SQS::Queue', 'WorkerQueue')[0];
    const dlq = resourceNamed(template, 'AWS::SQS::Queue', 'WorkerDeadLetterQueue')[0];
    const logs = resourceNamed(template, 'AWS::Logs::LogGroup', 'WorkerLogs')[0];
    expect(statementsOfRole(template, roleId)).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: arnOf(logs) },
      {
        actions: [
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:UpdateItem',
          'dynamodb:ConditionCheckItem',
          'dynamodb:DeleteItem',
          'dynamodb:PartiQLInsert',
        ],
        resource: arnOf(table),
      },
      { actions: ['sqs:SendMessage'], resource: [arnOf(queue), arnOf(dlq)] },
      {
        actions: ['secretsmanager:GetSecretValue'],
        resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              ref('AWS::Partition'),
              ':secretsmanager:',
              ref('AWS::Region'),
              ':',
              ref('AWS::AccountId'),
              ':secret:sluice/waitwhile/api-key-??????',
            ],
          ],
        },
      },
      // Added by the SQS event source: what polling the queue needs.
      {
        actions: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        resource: arnOf(queue),
      },
    ]);
  });
});

describe('the queues', () => {
  const { template } = synthStack();
  const [dlqId, dlq] = resourceNamed(template, 'AWS::SQS::Queue', 'WorkerDeadLetterQueue');
  const [queueId, queue] = resourceNamed(template, 'AWS::SQS::Queue', 'WorkerQueue');

  it('give throttled receives room: visibility 6x the timeout, maxReceiveCount 10, into the dead-letter relay', () => {
    const [relayId] = resourceNamed(template, 'AWS::SQS::Queue', 'WorkerDeadLetterRelayQueue');
    expect(queue).toEqual({
      VisibilityTimeout: 360,
      MessageRetentionPeriod: 345_600,
      RedrivePolicy: { deadLetterTargetArn: arnOf(relayId), maxReceiveCount: 10 },
      SqsManagedSseEnabled: true,
    });
  });

  it('relay what SQS redrives to the DLQ through a small Lambda that may only write the table, send to the DLQ and be fed by its queue', () => {
    const [relayId, relay] = resourceNamed(template, 'AWS::SQS::Queue', 'WorkerDeadLetterRelayQueue');
    expect(relay).toMatchObject({
      RedrivePolicy: { deadLetterTargetArn: arnOf(dlqId), maxReceiveCount: 5 },
      SqsManagedSseEnabled: true,
    });
    const [roleId] = resourceNamed(template, 'AWS::IAM::Role', 'WorkerDeadLetterRelayRole');
    const table = resourceNamed(template, 'AWS::DynamoDB::Table', 'Buckets')[0];
    const logs = resourceNamed(template, 'AWS::Logs::LogGroup', 'WorkerDeadLetterRelayLogs')[0];
    expect(statementsOfRole(template, roleId)).toEqual([
      { actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resource: arnOf(logs) },
      { actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem'], resource: arnOf(table) },
      { actions: ['sqs:SendMessage'], resource: arnOf(dlqId) },
      {
        actions: [
          'sqs:ReceiveMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueUrl',
          'sqs:DeleteMessage',
          'sqs:GetQueueAttributes',
        ],
        resource: arnOf(relayId),
      },
    ]);
  });

  it('tell the worker the same maxReceiveCount the redrive uses, so it dead-letters a failing message first, with its reason', () => {
    const { template: other } = synthStack({ maxReceiveCount: 7 });
    const [, otherQueue] = resourceNamed(other, 'AWS::SQS::Queue', 'WorkerQueue');
    const [, fn] = resourceNamed(other, 'AWS::Lambda::Function', 'WorkerFunction');
    const variables = (fn.Environment as { Variables: Record<string, string> }).Variables;
    expect([
      (otherQueue.RedrivePolicy as { maxReceiveCount: number }).maxReceiveCount,
      variables.SLUICE_MAX_RECEIVE_COUNT,
    ]).toEqual([7, '7']);
  });

  it('keep dead letters longer than the queue keeps messages', () => {
    expect(dlq).toEqual({ MessageRetentionPeriod: 1_209_600, SqsManagedSseEnabled: true });
  });

  it.each([
    ['queue', queueId],
    ['dead-letter queue', dlqId],
  ])('refuse requests without TLS on the %s', (_name, id) => {
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(id)],
      PolicyDocument: {
        Statement: [
          Match.objectLike({
            Effect: 'Deny',
            Action: 'sqs:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ],
      },
    });
  });
});

describe('the bucket table', () => {
  it('is on demand, with TTL, the sweep index and point-in-time recovery, disposable in dev', () => {
    const { template } = synthStack();
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Delete',
      Properties: {
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [{ AttributeName: 'vendor_dimension', KeyType: 'HASH' }],
        // Sparse and keys only: bucket items alone carry `sweep`, and a grant changes nothing projected.
        GlobalSecondaryIndexes: [
          {
            IndexName: 'sweep',
            KeySchema: [{ AttributeName: 'sweep', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: false,
      },
    });
  });

  it('is protected from deletion and retained outside dev', () => {
    const { template } = synthStack({ stage: 'prod' });
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({ DeletionProtectionEnabled: true }),
    });
  });

  it('is shared by a second worker for another vendor', () => {
    const { template } = synthStack({}, (stack) => {
      const crm = parseStackConfig({
        stage: 'dev',
        vendorSecretName: 'sluice/crm/api-key',
        buckets: [{ dimension: 'crm#rps', limitType: 'requests', capacity: 10, windowSeconds: 1 }],
        vendor: { name: 'crm', baseUrl: 'https://api.crm.example' },
      });
      stack.addWorker('Crm', crm);
    });
    const table = ref(resourceNamed(template, 'AWS::DynamoDB::Table', 'Buckets')[0]);
    const [, crm] = resourceNamed(template, 'AWS::Lambda::Function', 'CrmWorkerFunction');
    expect((crm.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
      SLUICE_TABLE_NAME: table,
      POWERTOOLS_SERVICE_NAME: 'crm',
    });
    // Each worker's queue and its dead-letter relay's queue.
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 4);
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.resourceCountIs('Custom::SluiceBuckets', 2);
  });
});
