import { synthStack } from '../synth';
import { ACCOUNT, ConcreteTemplate, type PolicyDocument } from './evaluate';

/**
 * The stack's own resource policies and trusts, evaluated as IAM would: the outcome topic takes
 * SQS subscriptions only, the scheduler role trusts schedules of its own account only, and a
 * disposable stage's claim-check bucket goes with `cdk destroy`.
 */

const { template } = synthStack({ products: ['waitwhile-app'] });
const concrete = new ConcreteTemplate(template);
const topicArn = concrete.arnOf('AWS::SNS::Topic', 'WorkerOutcomesTopic');
const topicPolicy = concrete.resolve(
  concrete.resourceProperties('AWS::SNS::TopicPolicy', 'WorkerOutcomesTopicPolicy').PolicyDocument,
) as PolicyDocument;
const subscriber = [
  {
    name: 'may-subscribe',
    policy: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 'sns:Subscribe', Resource: topicArn }],
    },
  },
];

/** A same-account principal whose own policy allows sns:Subscribe, meeting the topic's policy. */
async function subscribeDecision(protocol: string) {
  const { runSimulation } = await import('@cloud-copilot/iam-simulate');
  const response = await runSimulation(
    {
      identityPolicies: subscriber,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: topicPolicy,
      request: {
        action: 'sns:Subscribe',
        principal: `arn:aws:iam::${ACCOUNT}:role/some-app`,
        resource: { accountId: ACCOUNT, resource: topicArn },
        contextVariables: { 'sns:Protocol': protocol, 'aws:SecureTransport': 'true' },
      },
    } as never,
    {},
  );
  if (response.resultType === 'error') throw new Error(JSON.stringify(response.errors));
  return response.overallResult;
}

describe('the outcome topic', () => {
  it('refuses an email, HTTP or Lambda subscription to anyone, whatever their own policy allows', async () => {
    for (const protocol of ['email', 'https', 'http', 'lambda', 'firehose']) {
      expect({ protocol, decision: await subscribeDecision(protocol) }).toEqual({
        protocol,
        decision: 'ExplicitlyDenied',
      });
    }
  });

  it("lets an SQS subscription through to the subscriber's own IAM", async () => {
    expect(await subscribeDecision('sqs')).toBe('Allowed');
  });
});

describe('the scheduler role', () => {
  it("trusts scheduler.amazonaws.com for this account's schedules only (aws:SourceAccount)", () => {
    const role = concrete.resourceProperties('AWS::IAM::Role', 'ReconcilerSchedulerRole');
    expect(concrete.resolve(role.AssumeRolePolicyDocument)).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { Service: 'scheduler.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } },
        },
      ],
    });
  });
});

describe('the claim-check bucket', () => {
  const autoDeletes = (stage: string) =>
    Object.keys(
      synthStack({ stage, products: ['waitwhile-app'] }).template.findResources(
        'Custom::S3AutoDeleteObjects',
      ),
    ).length;

  it('is emptied and deleted with a dev stack, and kept with its bodies in any other stage', () => {
    expect(autoDeletes('dev')).toBe(1);
    expect(autoDeletes('prod')).toBe(0);
  });
});
