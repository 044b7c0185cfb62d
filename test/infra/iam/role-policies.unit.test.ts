import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SWEEP_INDEX } from '../../../lambda/contract';
import { SLUICE_RUNTIME } from '../../../lib/constructs/sluice-function';
import { synthStack } from '../synth';
import { type AwsRequest, type KeyKind, type ResourceKind, ROLE_CALLS, SAMPLE_KEYS } from './aws-calls';
import { ACCOUNT, ConcreteTemplate, decide, REGION } from './evaluate';

/**
 * IAM checked, not assumed: every request each Lambda (and a product holding grantAcquire,
 * grantEnqueue and grantReadBodies) makes is evaluated against the role policies `cdk synth`
 * gives it, by an IAM policy evaluator, with the item keys it touches as `dynamodb:LeadingKeys`.
 * DynamoDB Local and fauxqs ignore IAM, so no other test sees a missing action: on AWS it is an
 * AccessDeniedException on every message. The requests come from aws-calls.ts, which
 * aws-calls.unit.test.ts checks against the code's imports.
 */

const PRODUCT = 'waitwhile-app';
const OTHER_PRODUCT = 'other-app';

const { template } = synthStack({ products: [PRODUCT, OTHER_PRODUCT] }, (stack) => {
  const product = new lambda.Function(stack, 'ProductFunction', {
    runtime: SLUICE_RUNTIME,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
  stack.table.grantAcquire(product);
  stack.worker.grantEnqueue(product);
  stack.worker.grantReadBodies(product, PRODUCT);
});
const concrete = new ConcreteTemplate(template);

const bodiesArn = concrete.arnOf('AWS::S3::Bucket', 'WorkerOutcomesBodies');
const tableArn = concrete.arnOf('AWS::DynamoDB::Table', 'BucketsTable');
const RESOURCES: Record<ResourceKind, string> = {
  table: tableArn,
  sweepIndex: `${tableArn}/index/${SWEEP_INDEX.name}`,
  workQueue: concrete.arnOf('AWS::SQS::Queue', 'WorkerQueue'),
  deadLetterQueue: concrete.arnOf('AWS::SQS::Queue', 'WorkerDeadLetterQueue'),
  topic: concrete.arnOf('AWS::SNS::Topic', 'WorkerOutcomesTopic'),
  bodies: `${bodiesArn}/outcomes/${PRODUCT}/order-1/body`,
  productBodies: `${bodiesArn}/outcomes/${PRODUCT}/order-1/body`,
  otherProductBodies: `${bodiesArn}/outcomes/${OTHER_PRODUCT}/order-1/body`,
  secret: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:sluice/waitwhile/api-key-AbCdEf`,
};

const FUNCTIONS: Record<keyof typeof ROLE_CALLS, string> = {
  worker: 'WorkerFunction',
  reconciler: 'ReconcilerFunction',
  seeding: 'WorkerSeedingSeederFunction',
  relay: 'WorkerDeadLetterRelayFunction',
  product: 'ProductFunction',
};

/** The concrete requests behind one entry: one per item kind for an item-level table action. */
function expand(
  request: AwsRequest,
): { label: string; action: string; arn: string; context: Record<string, string[]> }[] {
  const arn = RESOURCES[request.resource];
  const keys: readonly (KeyKind | undefined)[] = request.keys ?? [undefined];
  return keys.map((key) => ({
    label: `${request.action} on ${request.resource}${key ? ` (${key} ${SAMPLE_KEYS[key]})` : ''}`,
    action: request.action,
    arn,
    context: key ? { 'dynamodb:LeadingKeys': [SAMPLE_KEYS[key]] } : ({} as Record<string, string[]>),
  }));
}

/** Actions a role holds for its Lambda trigger or its logs, not for calls its code makes. */
const PLATFORM_ACTIONS =
  /^(logs:|sqs:(ReceiveMessage|ChangeMessageVisibility|GetQueueUrl|DeleteMessage|GetQueueAttributes)$)/;

describe.each(Object.entries(ROLE_CALLS))('the %s role', (role, calls) => {
  const policies = concrete.policiesOfFunction(FUNCTIONS[role as keyof typeof ROLE_CALLS]);
  const made = [...Object.values(calls.sends).flat(), ...(calls.extra ?? [])];

  it('is allowed every request its code makes', async () => {
    const decisions = await Promise.all(
      made
        .flatMap(expand)
        .map(async (r) => [r.label, await decide(policies, r.action, r.arn, r.context)] as const),
    );
    expect(decisions.filter(([, d]) => d !== 'Allowed')).toEqual([]);
  });

  it('is refused what least privilege keeps from it', async () => {
    const decisions = await Promise.all(
      calls.refused
        .flatMap(expand)
        .map(async (r) => [r.label, await decide(policies, r.action, r.arn, r.context)] as const),
    );
    expect(decisions.filter(([, d]) => d === 'Allowed')).toEqual([]);
  });

  it('holds no action its code never uses', () => {
    const used = new Set(made.map((r) => r.action));
    const granted = policies.flatMap(({ policy }) =>
      policy.Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => [s.Action].flat() as string[]),
    );
    expect([...new Set(granted)].filter((a) => !PLATFORM_ACTIONS.test(a) && !used.has(a))).toEqual([]);
  });
});
