import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { GetQueueAttributesCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { Metric } from '../../lambda/contract';
import { loadStackConfig } from '../../lib/config';
import { localEndpoints } from '../setup/local-endpoints';
import { WorkerHarness } from '../worker/harness';
import { startCountingProxy } from './counting-proxy';
import { installOffline, PROJECT_ROOT, packProject, prepareExampleCopy, run, runAsync } from './install';
import { readOutcomesUntil, startOutcomeReader } from './outcome-reader';
import { logicalIdOf, resourcesOf, statementsOf, type Template } from './template';

/**
 * A second product joins from its own CDK app, as a user would do it: the project packed with
 * `npm pack`, the tarball installed (a `file:` dependency, offline) into a temporary copy of
 * examples/second-product, which is type-checked, synthesized with cdk-nag, and whose three
 * Lambdas then run on the local servers: the enqueuing one hands the reference worker its
 * product's work, the synchronous one shares the shipped buckets with that worker meanwhile,
 * and the outcome reader reads back, from its product's queue on the worker's outcome topic,
 * what became of every message. Slow by nature (a build, an install, three compilations): the
 * limits below are generous for a busy two-core machine, and nothing is timed.
 */

const REFUSALS = ['429', '503', '409'];

/**
 * The shipped waitwhile bucket and the simulator's true limit: a burst of 5, 5 a second. A
 * grant and the arrival of its call can be a few hundred ms apart on a loaded two-core CI
 * machine (the driver, the worker, DynamoDB Local, the simulator and other test files share
 * it), so the simulator forgives that much early arrival: sharing the quota is tested, not the
 * scheduler. Calling without Sluice still draws a refusal for most calls past the burst.
 */
const BURST = 5;
const PER_SECOND = 5;
const ARRIVAL_JITTER_MS = 500;
const refusalsOf = (byStatus: Record<string, number>) =>
  REFUSALS.reduce((sum, status) => sum + (byStatus[status] ?? 0), 0);

const sortById = <T extends { id: string }>(items: readonly T[]) =>
  [...items].sort((a, b) => a.id.localeCompare(b.id));

/** The most calls that arrived within any `windowMs` (a sliding window over the arrival times). */
function busiestWindow(arrivalsMs: readonly number[], windowMs: number): number {
  const sorted = [...arrivalsMs].sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last++) {
    while (sorted[last]! - sorted[first]! >= windowMs) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

describe('sluice-aws as a package, used by a second product in its own CDK app', () => {
  const work = mkdtempSync(path.join(tmpdir(), 'sluice-package-'));
  const appDir = path.join(work, 'second-product');
  let tarball: string;
  const bin = (name: string) => path.join(appDir, 'node_modules', '.bin', name);
  let compiled = false;
  /** tsc checks and emits dist/; later steps run the compiled app (once, whichever test comes first). */
  const compile = () => {
    if (!compiled) run(bin('tsc'), ['-p', 'tsconfig.json'], appDir);
    compiled = true;
  };
  let template: Template | undefined;
  /** `cdk synth` of the compiled app, with cdk-nag's checks failing it on any finding (once). */
  const synthesized = (): Template => {
    compile();
    if (!template) {
      run(bin('cdk'), ['synth', '--no-notices', '-q', '-o', 'cdk.out'], appDir);
      const file = path.join(appDir, 'cdk.out', 'SecondProduct-dev.template.json');
      template = JSON.parse(readFileSync(file, 'utf8')) as Template;
    }
    return template;
  };

  beforeAll(() => {
    tarball = packProject(work);
    prepareExampleCopy(tarball, appDir);
    installOffline(appDir);
  }, 900_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('packs only the built JavaScript, its declarations, the pre-bundled handlers, README and LICENSE', () => {
    const files = run('tar', ['-tzf', tarball], work).trim().split('\n');
    const outside = files.filter(
      (file) =>
        !/^package\/dist\/.+\.(js|d\.ts|js\.map)$/.test(file) && !file.startsWith('package/dist/handlers/'),
    );
    expect(outside.sort()).toEqual(['package/LICENSE', 'package/README.md', 'package/package.json']);
    expect(files).toEqual(
      expect.arrayContaining([
        'package/dist/lambda/sluice/index.d.ts',
        'package/dist/lambda/producer/index.d.ts',
        'package/dist/lib/constructs/index.d.ts',
        'package/dist/handlers/worker/index.js',
        'package/dist/handlers/reconciler/index.js',
        'package/dist/handlers/seed-buckets/index.js',
      ]),
    );
    expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('type-checks the example against the installed package (imports only from sluice-aws/...)', () => {
    const sources = run('grep', ['-rhE', "from '[^']+'", 'bin', 'lib', 'src'], appDir);
    expect(sources).not.toMatch(/from '\.\.\/\.\.\//);
    expect(sources).toMatch(/from 'sluice-aws\/constructs'/);
    expect(sources).toMatch(/from 'sluice-aws\/producer'/);
    compile();
  }, 600_000);

  it('synthesizes the example with cdk-nag clean, granted exactly what each Lambda does', () => {
    const template = synthesized();
    const ssmNames = Object.values(template.Parameters).flatMap((parameter) =>
      parameter.Default?.startsWith('/sluice/') ? [parameter.Default] : [],
    );
    expect(ssmNames.sort()).toEqual([
      '/sluice/dev/table/arn',
      '/sluice/dev/table/name',
      '/sluice/dev/workers/waitwhile/outcome-bucket-name',
      '/sluice/dev/workers/waitwhile/outcome-topic-arn',
      '/sluice/dev/workers/waitwhile/queue-arn',
      '/sluice/dev/workers/waitwhile/queue-url',
    ]);
    const actions = Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).map(([id, resource]) => [
      id.replace(/RoleDefaultPolicy.*$/, ''),
      statementsOf(resource).flatMap((s) => s.Action),
    ]);
    expect(Object.fromEntries(actions)).toEqual({
      // grantAcquire: bucket items only (dynamodb:LeadingKeys; evaluated in test/infra/iam/).
      SyncCall: [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'dynamodb:ConditionCheckItem',
        'dynamodb:GetItem',
        'dynamodb:UpdateItem',
        'dynamodb:PutItem',
        'secretsmanager:GetSecretValue',
      ],
      EnqueueWork: ['logs:CreateLogStream', 'logs:PutLogEvents', 'sqs:SendMessage'],
      // The event source's actions, on the product's own outcome queue only (below).
      OutcomesReader: [
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        's3:GetObject',
        'sqs:ChangeMessageVisibility',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
        'sqs:GetQueueUrl',
        'sqs:ReceiveMessage',
      ],
    });
    const byProduct = Object.values(resourcesOf(template, 'AWS::Logs::MetricFilter')).map(
      (resource) => (resource.Properties.MetricTransformations as { MetricName: string }[])[0]?.MetricName,
    );
    expect(byProduct.sort()).toEqual(['Grants', 'RetryIns']);
  }, 600_000);

  it('subscribes its own outcome queue to the worker topic, filtered on its product, and feeds its reader from it', () => {
    const template = synthesized();
    const parameterOf = (name: string) =>
      Object.entries(template.Parameters).find(([, parameter]) => parameter.Default === name)?.[0];
    const topicArn = { Ref: parameterOf('/sluice/dev/workers/waitwhile/outcome-topic-arn') };
    expect(topicArn.Ref).toBeDefined();

    // One subscription, on the worker's topic found by stage: raw delivery, only this product's outcomes.
    const subscriptions = Object.values(resourcesOf(template, 'AWS::SNS::Subscription'));
    expect(subscriptions.map((subscription) => subscription.Properties)).toEqual([
      expect.objectContaining({
        TopicArn: topicArn,
        Protocol: 'sqs',
        RawMessageDelivery: true,
        FilterPolicy: { product: ['checkout'] },
      }),
    ]);
    const queueId = logicalIdOf(subscriptions[0]!.Properties.Endpoint);
    const queues = resourcesOf(template, 'AWS::SQS::Queue');
    const queue = queues[queueId]!.Properties;
    // Encrypted so that SNS may still deliver (SSE-SQS), with a DLQ of its own for what the reader cannot read.
    expect(queue).toMatchObject({ SqsManagedSseEnabled: true, RedrivePolicy: { maxReceiveCount: 5 } });
    const dlqId = logicalIdOf((queue.RedrivePolicy as { deadLetterTargetArn: unknown }).deadLetterTargetArn);
    expect(dlqId).not.toBe(queueId);
    expect(queues[dlqId]?.Properties).toMatchObject({ SqsManagedSseEnabled: true });

    // Only that topic may send to the queue, and only over TLS.
    const queuePolicy = Object.values(resourcesOf(template, 'AWS::SQS::QueuePolicy')).find((policy) =>
      (policy.Properties.Queues as unknown[]).some((ref) => logicalIdOf(ref) === queueId),
    );
    expect(statementsOf(queuePolicy!)).toEqual([
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      }),
    ]);

    // The reader is fed by that queue, with partial batch responses, and may touch no other queue.
    const [reader] = Object.entries(resourcesOf(template, 'AWS::Lambda::Function')).filter(([id]) =>
      id.startsWith('OutcomesReaderFunction'),
    );
    const mappings = Object.values(resourcesOf(template, 'AWS::Lambda::EventSourceMapping'));
    expect(mappings.map((mapping) => mapping.Properties)).toEqual([
      {
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        FunctionName: { Ref: reader![0] },
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
    expect(reader![1].Properties.Environment).toEqual({
      Variables: expect.objectContaining({ SLUICE_PRODUCT: 'checkout' }),
    });
    const [, readerPolicy] = Object.entries(resourcesOf(template, 'AWS::IAM::Policy')).find(([id]) =>
      id.startsWith('OutcomesReaderRole'),
    )!;
    const sqsResources = statementsOf(readerPolicy)
      .filter((statement) => [statement.Action].flat().some((action) => action.startsWith('sqs:')))
      .map((statement) => statement.Resource);
    expect(sqsResources).toEqual([{ 'Fn::GetAtt': [queueId, 'Arn'] }]);
    // Large answers (bodyRef): this product's keys of the bucket the Sluice stack published, only.
    const bucketName = { Ref: parameterOf('/sluice/dev/workers/waitwhile/outcome-bucket-name') };
    expect(bucketName.Ref).toBeDefined();
    const s3Statements = statementsOf(readerPolicy).filter((statement) =>
      [statement.Action].flat().some((action) => action.startsWith('s3:')),
    );
    expect(s3Statements).toEqual([expect.objectContaining({ Action: 's3:GetObject', Effect: 'Allow' })]);
    expect(JSON.stringify(s3Statements[0]!.Resource)).toContain('/outcomes/checkout/*');
    expect(JSON.stringify(s3Statements[0]!.Resource)).toContain(JSON.stringify(bucketName));
  }, 600_000);

  it('deploys the Sluice stack from the installed package with the handlers bundled at build time', () => {
    // A consumer app of one file: the constructs from node_modules, no project source tree.
    const script = `
      const { App, Validations } = require('aws-cdk-lib');
      const { AwsSolutionsChecks } = require('cdk-nag');
      const { SluiceStack, loadStackConfig } = require('sluice-aws/constructs');
      const app = new App({ outdir: 'platform.out' });
      const stack = new SluiceStack(app, 'Sluice-dev', { config: loadStackConfig(process.argv[1]) });
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      const assembly = app.synth();
      const template = assembly.getStackByName(stack.stackName).template;
      const [, fn] = Object.entries(template.Resources).find(
        ([id, r]) => r.Type === 'AWS::Lambda::Function' && id.startsWith('WorkerFunction'),
      );
      process.stdout.write(JSON.stringify({ asset: fn.Metadata['aws:asset:path'], handler: fn.Properties.Handler }));
    `;
    const config = path.join(PROJECT_ROOT, 'config', 'sluice.config.json');
    const { asset, handler } = JSON.parse(
      run(process.execPath, ['-e', script, config], appDir, {
        CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:enable-asset-metadata': true }),
      }),
    ) as { asset: string; handler: string };
    // Byte for byte the bundle built with the package: nothing was bundled in this app (no
    // esbuild, no Docker), and nothing of the project's source tree was needed.
    expect(handler).toBe('index.handler');
    const deployed = readFileSync(path.join(appDir, 'platform.out', asset, 'index.js'));
    const packaged = readFileSync(
      path.join(appDir, 'node_modules', 'sluice-aws', 'dist', 'handlers', 'worker', 'index.js'),
    );
    expect(deployed.equals(packaged)).toBe(true);
  }, 600_000);

  it('runs the synchronous call beside the reference worker on the same buckets, never past the vendor limit, and reads back every outcome', async () => {
    compile();
    const config = loadStackConfig(path.join(PROJECT_ROOT, 'config', 'sluice.config.json'));
    const { baseUrl: _shipped, ...vendor } = config.vendor;
    // The shipped products (checkout and support): the harness builds the outcome topic on
    // fauxqs with one queue per product, subscribed with raw delivery and a filter on its name.
    const harness = await WorkerHarness.start({
      simulator: { profile: 'waitwhile', graceMs: ARRIVAL_JITTER_MS },
      buckets: config.buckets,
      vendor,
      products: config.products,
    });
    const proxy = await startCountingProxy(harness.simulator.url);
    const reader = startOutcomeReader(appDir, {
      SLUICE_PRODUCT: 'checkout',
      AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    });
    try {
      const messages = 25;
      const calls = 25;
      const supportMessages = 3;
      // The worker's work arrives through the example's other Lambda (sluice-aws/producer,
      // installed), which stamps its product on each message; one names an operation the worker
      // does not know, and ends dead-lettered.
      const event = {
        messages: [
          ...Array.from({ length: messages }, (_, i) => ({
            id: `visit-${i}`,
            operation: 'createVisit',
            params: { locationId: `store-${i % 5}` },
          })),
          { id: 'visit-unknown', operation: 'cancelVisit', params: { visitId: 'v-1' } },
        ],
      };
      const enqueueScript = `
        require('./dist/src/enqueue-work.js')
          .handler(JSON.parse(process.argv[1]))
          .then((report) => process.stdout.write(JSON.stringify(report)));
      `;
      const enqueued = await runAsync(
        process.execPath,
        ['-e', enqueueScript, JSON.stringify(event)],
        appDir,
        {
          WORK_QUEUE_URL: harness.queueUrl,
          SLUICE_PRODUCT: 'checkout',
          // The AWS SDK's own endpoint variable: the handler is the one deployed, unchanged.
          AWS_ENDPOINT_URL_SQS: localEndpoints().sqs,
          AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
        },
      );
      expect(JSON.parse(enqueued.stdout)).toEqual({ sent: messages + 1, retried: 0 });
      // Another product's work on the same worker, whose outcomes must never reach checkout's
      // reader. It names an operation the worker does not know, so it ends dead-lettered (and
      // published to support) without a vendor call: the quota test below keeps its load.
      await harness.enqueue(
        Array.from({ length: supportMessages }, (_, i) => ({
          id: `ticket-${i}`,
          product: 'support',
          operation: 'closeTicket',
          params: { ticketId: `t-${i}` },
        })),
      );
      const resultFile = path.join(work, 'sync-results.json');
      const [driver] = await Promise.all([
        runAsync(
          process.execPath,
          [path.join(__dirname, 'sync-call-driver.cjs'), appDir, String(calls), '3', resultFile],
          appDir,
          {
            SLUICE_TABLE_NAME: harness.tableName,
            SLUICE_ENDPOINT_URL: localEndpoints().dynamodb,
            SLUICE_AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
            SLUICE_LOG_LEVEL: 'INFO',
            SLUICE_PRODUCT: 'checkout',
            VENDOR_BASE_URL: proxy.url,
            VENDOR_API_KEY: harness.simulator.apiKey,
          },
        ),
        harness.runUntilIdle(180_000),
      ]);
      // The worker may have gone idle first, waiting on a requeue the driver's calls caused.
      await harness.runUntilIdle(180_000);

      const vendorStats = harness.simulator.stats();
      const checkout = proxy.counts();
      const report = {
        vendor: {
          limit: `burst ${BURST}, ${PER_SECOND}/s`,
          calls: vendorStats.calls,
          refusals: vendorStats.refusals,
          byStatus: vendorStats.byStatus,
        },
        byProduct: {
          checkout: { calls: checkout.calls, refusals: refusalsOf(checkout.byStatus) },
          'waitwhile worker': {
            calls: vendorStats.calls - checkout.calls,
            refusals: vendorStats.refusals - refusalsOf(checkout.byStatus),
          },
        },
      };
      console.log(`two products on one quota: ${JSON.stringify(report)}`);

      const results = JSON.parse(readFileSync(resultFile, 'utf8')) as { status?: number; error?: string }[];
      expect(results.filter((result) => result.status !== 200)).toEqual([]);
      expect(harness.telemetry.countOf(Metric.completed)).toBe(messages);
      expect(sortById(await harness.deadLetters())).toEqual(
        ['visit-unknown', ...Array.from({ length: supportMessages }, (_, i) => `ticket-${i}`)]
          .sort()
          .map((id) => ({ id, reason: 'invalid_message' })),
      );
      expect(report.byProduct).toEqual({
        checkout: { calls, refusals: 0 },
        'waitwhile worker': { calls: messages, refusals: 0 },
      });
      // Never more than the limit: no refusal, and no second with more than burst + rate calls,
      // give or take the arrival jitter the simulator forgives (calls granted in one second may
      // arrive in a slightly shorter span on this shared machine).
      expect(vendorStats.refusals).toBe(0);
      expect(
        busiestWindow(
          vendorStats.timeline.map((entry) => entry.atMs),
          1_000 - ARRIVAL_JITTER_MS,
        ),
      ).toBeLessThanOrEqual(BURST + PER_SECOND);
      // Every acquire of the second product carried its label, from the installed SDK's own logs.
      const granted = driver.stdout
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { message?: string; product?: string })
        .filter((entry) => entry.message === 'acquire.granted');
      expect(granted.length).toBeGreaterThanOrEqual(calls);
      expect(new Set(granted.map((entry) => entry.product))).toEqual(new Set(['checkout']));

      // The outcomes come back. Support's went to its own queue only...
      const support = await harness.outcomesOf('support', supportMessages);
      expect(support.map((outcome) => [outcome.id, outcome.outcome]).sort()).toEqual(
        Array.from({ length: supportMessages }, (_, i) => [`ticket-${i}`, 'dead_lettered']),
      );
      // ...and two faults join checkout's: a body that is no outcome, and another product's
      // outcome, as a wrong subscription filter would let through.
      const outcomeQueueUrl = harness.outcomes!.queues['checkout']!;
      const sent = async (body: string) =>
        (await harness.sqs.send(new SendMessageCommand({ QueueUrl: outcomeQueueUrl, MessageBody: body })))
          .MessageId!;
      const garbageId = await sent('not an outcome');
      const foreignId = await sent(JSON.stringify(support[0]));
      // The example's reader, fed by the event source emulation (partial batch responses
      // honoured), until every checkout outcome is read and both faults were handled, one way
      // or the other (the assertions below say which way is right).
      const expectedIds = event.messages.map((message) => message.id);
      const invocations = await readOutcomesUntil(reader, harness.sqs, outcomeQueueUrl, () => {
        const read = new Set(reader.linesOf('outcome.read').map((line) => line['message_id']));
        const handled = new Set(reader.logs().map((line) => line['sqs_message_id']));
        return expectedIds.every((id) => read.has(id)) && handled.has(garbageId) && handled.has(foreignId);
      });

      // Every enqueued message's outcome, read back with its status (or its reason), and nothing else.
      const read = Object.fromEntries(
        reader
          .linesOf('outcome.read')
          .map((line) => [
            line['message_id'],
            line['outcome'] === 'completed' ? line['status'] : line['reason'],
          ]),
      );
      expect(read).toEqual({
        ...Object.fromEntries(Array.from({ length: messages }, (_, i) => [`visit-${i}`, 201])),
        'visit-unknown': 'invalid_message',
      });
      // The two faults: named, reported as batch item failures, and left on the queue (the
      // deployed queue's redrive then moves them to its DLQ), never deleted as read.
      expect(
        Object.fromEntries(
          reader.linesOf('outcome.unreadable').map((line) => [line['sqs_message_id'], line['problem']]),
        ),
      ).toEqual({
        [garbageId]: '(body): is not JSON',
        [foreignId]: expect.stringMatching(/^product: is "support", not this product's "checkout"/),
      });
      const failed = new Set(invocations.flatMap((invocation) => invocation.failedIds));
      expect(
        invocations.filter((invocation) => invocation.outcome !== 'ok' && invocation.outcome !== 'partial'),
      ).toEqual([]);
      expect([...failed].sort()).toEqual([garbageId, foreignId].sort());
      const left = await harness.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: outcomeQueueUrl, AttributeNames: ['All'] }),
      );
      expect(
        Number(left.Attributes?.ApproximateNumberOfMessages ?? 0) +
          Number(left.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
      ).toBe(2);
    } finally {
      await reader.stop();
      await proxy.stop();
      await harness.stop();
    }
  }, 600_000);
});
