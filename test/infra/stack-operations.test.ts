import { Match } from 'aws-cdk-lib/assertions';
import { resourceNamed, statementsOfRole, synthStack } from './synth';

const arnOf = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

describe('the reconciler', () => {
  const { template } = synthStack();
  const [fnId, reconciler] = resourceNamed(template, 'AWS::Lambda::Function', 'ReconcilerFunction');

  it('runs every minute from EventBridge Scheduler, never retried, a stale tick dropped after 60 s', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(1 minute)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({
        Arn: arnOf(fnId),
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      }),
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
  });

  it('runs one sweep at a time and finishes before the next tick', () => {
    expect([reconciler.ReservedConcurrentExecutions, reconciler.Timeout]).toEqual([1, 50]);
    const { template: hourly } = synthStack({ reconcilerEveryMinutes: 60 });
    hourly.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'rate(1 hour)' });
    const [, slow] = resourceNamed(hourly, 'AWS::Lambda::Function', 'ReconcilerFunction');
    expect(slow.Timeout).toBe(300);
  });

  it('reads the sweep index and never scans the table; only the seeding does, at deploy time', () => {
    const table = arnOf(resourceNamed(template, 'AWS::DynamoDB::Table', 'Buckets')[0]);
    const scanners = ['WorkerRole', 'WorkerSeedingSeederRole', 'ReconcilerRole'].filter((prefix) => {
      const [roleId] = resourceNamed(template, 'AWS::IAM::Role', prefix);
      return statementsOfRole(template, roleId).some(
        (statement) =>
          statement.actions.includes('dynamodb:Scan') &&
          JSON.stringify(statement.resource) === JSON.stringify(table),
      );
    });
    expect(scanners).toEqual(['WorkerSeedingSeederRole']);
    const [roleId] = resourceNamed(template, 'AWS::IAM::Role', 'ReconcilerRole');
    expect(statementsOfRole(template, roleId).slice(1, 4)).toEqual([
      { actions: ['dynamodb:UpdateItem'], resource: table },
      { actions: ['dynamodb:Scan'], resource: { 'Fn::Join': ['', [table, '/index/sweep']] } },
      { actions: ['dynamodb:BatchGetItem'], resource: table },
    ]);
  });
});

describe('bucket seeding', () => {
  const { stack, template } = synthStack();

  it('passes the configured definitions to its own function, so a change re-runs it', () => {
    const [seederId] = resourceNamed(template, 'AWS::Lambda::Function', 'WorkerSeedingSeederFunction');
    template.hasResourceProperties('Custom::SluiceBuckets', {
      ServiceToken: arnOf(seederId),
      BucketsJson: JSON.stringify(stack.worker.config.buckets),
      // A stack deployed before the index seeds again once, and so marks its older bucket items.
      SweepIndex: 'sweep',
    });
  });

  it('may read, create and update bucket items, and scan for the keys of a keyed bucket', () => {
    const [roleId] = resourceNamed(template, 'AWS::IAM::Role', 'WorkerSeedingSeederRole');
    expect(statementsOfRole(template, roleId).map((statement) => statement.actions)).toEqual([
      ['logs:CreateLogStream', 'logs:PutLogEvents'],
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Scan'],
    ]);
  });
});

describe('every function', () => {
  const { template } = synthStack();

  it('logs to its own log group with the configured retention', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function'));
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(functions).toHaveLength(4);
    for (const fn of functions) {
      const group = fn.Properties.LoggingConfig.LogGroup.Ref as string;
      expect(groups[group]?.Properties).toEqual({ RetentionInDays: 30 });
    }
  });

  it('has a role of its own without AWS-managed policies', () => {
    const roles = Object.values(template.findResources('AWS::IAM::Role'));
    expect(roles.map((role) => role.Properties.ManagedPolicyArns)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('monitoring', () => {
  it('raises the documented alarms with the configured thresholds and no actions by default', () => {
    const { template } = synthStack({ alarms: { oldestMessageAgeSeconds: 600 } });
    const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([id, alarm]) => ({
      id: id.replace(/^Monitoring|[0-9A-F]{8}$/g, ''),
      metric: alarm.Properties.MetricName,
      statistic: alarm.Properties.Statistic,
      threshold: alarm.Properties.Threshold,
      actions: alarm.Properties.AlarmActions,
    }));
    expect(alarms).toEqual([
      {
        id: 'DeadLetterQueueNotEmpty',
        metric: 'ApproximateNumberOfMessagesVisible',
        statistic: 'Maximum',
        threshold: 1,
        actions: undefined,
      },
      {
        id: 'OldestMessageTooOld',
        metric: 'ApproximateAgeOfOldestMessage',
        statistic: 'Maximum',
        threshold: 600,
        actions: undefined,
      },
      {
        id: 'EndToEndAgeTooOld',
        metric: 'MessageEndToEndAge',
        statistic: 'Maximum',
        threshold: 3_600,
        actions: undefined,
      },
      { id: 'WorkerErrors', metric: 'Errors', statistic: 'Sum', threshold: 1, actions: undefined },
      {
        id: 'WorkerMessageFailures',
        metric: 'MessageFailures',
        statistic: 'Sum',
        threshold: 1,
        actions: undefined,
      },
      { id: 'WorkerThrottles', metric: 'Throttles', statistic: 'Sum', threshold: 1, actions: undefined },
      { id: 'ReconcilerErrors', metric: 'Errors', statistic: 'Sum', threshold: 1, actions: undefined },
      {
        id: 'Vendor429AfterGrant',
        metric: 'Vendor429AfterGrant',
        statistic: 'Sum',
        threshold: 5,
        actions: undefined,
      },
      {
        id: 'VendorCircuitOpen',
        metric: 'CircuitOpenSeconds',
        statistic: 'Maximum',
        threshold: 600,
        actions: undefined,
      },
      {
        id: 'VendorCircuitUnreadable',
        metric: 'CircuitItemUnreadable',
        statistic: 'Sum',
        threshold: 1,
        actions: undefined,
      },
    ]);
  });

  it('alarms when the vendor circuit stays open past the configured time, on the reconciler period, and charts it', () => {
    const { template } = synthStack({ alarms: { circuitOpenSeconds: 1_200 } });
    // One period per reconciler run: the run reports the circuit (0 while closed) whatever the traffic.
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Sluice',
      MetricName: 'CircuitOpenSeconds',
      Dimensions: [{ Name: 'service', Value: 'waitwhile' }],
      Statistic: 'Maximum',
      Period: 60,
      Threshold: 1_200,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    const reporting = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ SLUICE_CIRCUIT_VENDOR: 'waitwhile' }) } },
    });
    expect(Object.keys(reporting)).toEqual([expect.stringMatching(/^ReconcilerFunction/)]);
    const every5 = synthStack({ reconcilerEveryMinutes: 5 }).template;
    every5.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CircuitOpenSeconds', Period: 300 });
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    expect(body).toContain('Vendor circuit: open (1) or closed (0), open for (s)');
    expect(body).toContain('CircuitOpenSeconds');
    expect(body).toContain('CircuitOpen\\"');
    expect(body).toContain('CircuitProbes');
    expect(body).toContain('CircuitItemUnreadable');
  });

  it('watches the DLQ depth and reads custom metrics by the vendor as service', () => {
    const { template } = synthStack();
    const dlq = resourceNamed(template, 'AWS::SQS::Queue', 'WorkerDeadLetterQueue')[0];
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Sluice',
      MetricName: 'Vendor429AfterGrant',
      Dimensions: [{ Name: 'service', Value: 'waitwhile' }],
      Period: 300,
    });
  });

  it('alarms on messages that failed inside the worker, which Lambda Errors never counts', () => {
    const { template } = synthStack({ alarms: { workerErrorsPerFiveMinutes: 3 } });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Sluice',
      MetricName: 'MessageFailures',
      Dimensions: [{ Name: 'service', Value: 'waitwhile' }],
      Statistic: 'Sum',
      Period: 300,
      Threshold: 3,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    });
  });

  it('sends alarms to an email topic that only accepts TLS', () => {
    const { template } = synthStack({ alarmEmail: 'ops@example.com' });
    const [topicId] = resourceNamed(template, 'AWS::SNS::Topic', 'AlarmTopic');
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: [
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ],
      },
    });
    const actions = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map(
      (alarm) => alarm.Properties.AlarmActions,
    );
    expect(new Set(actions.map((list) => JSON.stringify(list)))).toEqual(
      new Set([JSON.stringify([{ Ref: topicId }])]),
    );
  });

  it('uses an existing topic when given its ARN', () => {
    const arn = 'arn:aws:sns:eu-west-1:123456789012:ops';
    const { template } = synthStack({ alarmTopicArn: arn });
    template.resourceCountIs('AWS::SNS::Topic', 0);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [arn], OKActions: [arn] });
  });

  it('lays out a dashboard with every metric the issue lists', () => {
    const { template } = synthStack();
    const [, dashboard] = resourceNamed(template, 'AWS::CloudWatch::Dashboard', 'MonitoringDashboard');
    const body = JSON.stringify(dashboard.DashboardBody);
    const titles = [...body.matchAll(/\\"title\\":\\"([^\\]+)\\"/g)].map((match) => match[1]);
    expect(titles).toEqual([
      'Queue depth',
      'Age of the oldest message (s)',
      'DLQ depth',
      'Worker invocations, errors, throttles',
      'Worker duration p99 (ms)',
      'Worker concurrency',
      'Admitted rate (grants per minute)',
      'Vendor calls in flight (max per minute)',
      'Grants and retry-ins',
      'Requeues and penalties',
      'Vendor 429s after a grant',
      'Vendor circuit: open (1) or closed (0), open for (s)',
      'Vendor circuit: opens, probes, closes, deferred messages',
      'Messages failed in the worker (delivered again or dead-lettered)',
      'Dead-lettered by reason',
      'Refill rate after a penalty (% of configured), by bucket',
      'Vendor states a limit below the configured rate (429s), by bucket',
      'Reconciler: runs and reclaimed leases',
    ]);
    for (const metric of [
      'ApproximateNumberOfMessagesDelayed',
      'ConcurrentExecutions',
      'Grants',
      'RetryIns',
      'Requeues',
      'Penalties',
      'ReclaimedLeases',
      'ReconcilerRuns',
      'ReconcilerItemErrors',
      'MessageEndToEndAge',
      "SEARCH('{Sluice,service,Bucket} MetricName=",
      'RateScale',
      'MessageFailures',
      'CallsInFlight',
      'UnstartedRequeues',
    ]) {
      expect(body).toContain(metric);
    }
  });
});
