import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { snsOutcomeTopic } from '../../lambda/outcomes/aws';
import { completedOutcome, deadLetteredOutcome } from '../../lambda/outcomes/build';
import { awaitOutcomes, failFirstCompletedPublish, OutcomeCollector } from '../../local/outcomes/collector';
import { createOutcomeTopology } from '../../local/outcomes/topology';
import { localEndpoints, uniqueName } from '../setup/local-endpoints';

/** What `npm start` counts of the outcomes, read from real product queues on fauxqs. */

const REGION = 'us-east-1';
const routing = (id: string, product: string) => ({ id, product, operation: 'createVisit' });
const completed = (id: string, product: string) =>
  completedOutcome({
    routing: routing(id, product),
    attempts: 1,
    endedAtMs: 1,
    answer: {
      class: 'success',
      status: 201,
      body: { ok: true },
      headers: {},
      rateLimit: {},
      latencyMs: 1,
      attempts: 1,
      cached: false,
      outcomeUnknown: false,
    },
  });
const deadLettered = (id: string, product: string) =>
  deadLetteredOutcome({
    routing: routing(id, product),
    attempts: 1,
    endedAtMs: 1,
    reason: 'max_age',
    detail: 'old',
  });

describe('the outcome collector of the local stack', () => {
  const { sqs: endpoint } = localEndpoints();
  const sqs = new SQSClient({ endpoint, region: REGION });
  const sns = new SNSClient({ endpoint, region: REGION });
  const s3 = new S3Client({ endpoint, region: REGION, forcePathStyle: true });
  afterAll(() => {
    for (const client of [sqs, sns, s3]) client.destroy();
  });

  it('counts per product, names the missing ids, and flags an id with two different final outcomes', async () => {
    const topology = await createOutcomeTopology(
      { sns, sqs, s3 },
      { topic: uniqueName('outcomes'), bucket: uniqueName('bodies'), products: ['checkout', 'support'] },
    );
    const collector = new OutcomeCollector(sqs, topology);
    let injected = 0;
    const topic = failFirstCompletedPublish(
      collector.counting(snsOutcomeTopic(sns, topology.topicArn)),
      () => {
        injected += 1;
      },
    );
    const publish = (event: ReturnType<typeof completed> | ReturnType<typeof deadLettered>) =>
      topic.publish(JSON.stringify(event), event.product, event.outcome);
    await expect(publish(completed('a', 'checkout'))).rejects.toThrow(
      'chaos: the outcome topic refused the publish',
    );
    await publish(completed('a', 'checkout'));
    await publish(deadLettered('b', 'support'));
    await publish(completed('c', 'support'));
    await publish(deadLettered('c', 'support'));
    const expected = ['a', 'b', 'c', 'd'];
    await awaitOutcomes({ collector, expected, patienceMs: 2_000, everyMs: 50 });
    expect(injected).toBe(1);
    const { outcomes, missingIds, conflicts } = collector.report(expected);
    expect([outcomes.published, outcomes.received, outcomes.missing, outcomes.claimChecked]).toEqual([
      4, 3, 1, 0,
    ]);
    expect([missingIds, conflicts]).toEqual([['d'], ['c']]);
    // `c` counts once, as whichever of its two outcomes arrived first (SQS does not order them).
    const support = outcomes.byProduct.support;
    expect([outcomes.byProduct.checkout, (support?.completed ?? 0) + (support?.deadLettered ?? 0)]).toEqual([
      { completed: 1, deadLettered: 0 },
      2,
    ]);
  });
});
