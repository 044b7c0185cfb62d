import { chaosLambdaTimeoutSeconds, chaosPlan, faultSequence } from '../../local/chaos';
import { bodyId } from '../../local/dlq';
import { emfMetrics } from '../../local/log-capture';
import { clock, eta, renderProgress } from '../../local/progress';
import { buildReport, summaryTable } from '../../local/report';
import { Tally } from '../../local/tally';
import { instrumentedFetch } from '../../local/vendor-fetch';

const noDynamo = { requests: 0, rcu: 0, wcu: 0, byOperation: {} };
const run = { profile: 'waitwhile', chaos: false, vendorUrl: 'http://127.0.0.1:1', config: 'c.json' };

describe('the chaos plan', () => {
  it('places one kill, two server errors and one hang at fixed fractions of the workload', () => {
    const plan = chaosPlan(200);
    expect([...plan.faults]).toEqual([
      [20, 'kill'],
      [40, 'server-error'],
      [41, 'server-error'],
      [70, 'hang'],
    ]);
    expect(plan.duplicates).toBe(3);
  });

  it('never stacks two faults on one call of a tiny workload', () => {
    const next = faultSequence(chaosPlan(3));
    expect([next(), next(), next(), next(), next()]).toEqual([
      'kill',
      'server-error',
      'server-error',
      'hang',
      undefined,
    ]);
  });

  it('shortens the Lambda timeout only as far as the inline threshold allows', () => {
    const timeout = (configured: number, inline: number) =>
      chaosLambdaTimeoutSeconds({
        configured,
        inlineThresholdSeconds: inline,
        minimum: 10,
        slotMarginSeconds: 5,
      });
    expect([timeout(60, 5), timeout(60, 2), timeout(8, 2), timeout(60, 7.5)]).toEqual([11, 10, 8, 13]);
  });
});

describe('the report', () => {
  it('counts every id exactly once as completed, dead-lettered or lost', () => {
    const tally = new Tally();
    for (const id of ['a', 'b', 'b', 'c']) tally.delivered(id);
    tally.completed('a');
    tally.deadLettered.set('b', 'invalid_message');
    tally.vendorAnswered(200, 'a');
    tally.vendorAnswered(429, 'c');
    tally.vendorDidNotAnswer();
    const report = buildReport({
      ids: ['a', 'b', 'c'],
      tally,
      makespanSeconds: 12.34,
      dynamodb: noDynamo,
      run,
    });

    expect(report.messages).toEqual({ total: 3, completed: 1, deadLettered: 1, lost: 1 });
    expect(report.byId).toEqual({
      a: { state: 'completed', attempts: 1 },
      b: { state: 'deadLettered', attempts: 2, dlqReason: 'invalid_message' },
      c: { state: 'lost', attempts: 1 },
    });
    expect(report.vendor).toEqual({
      calls: 3,
      refusalsByStatus: { '429': 1, 'no-answer': 1 },
      duplicateSuccesses: [],
    });
    expect(report.makespanSeconds).toBe(12.3);
    expect(report.checks).toEqual({ ok: false, problems: ['1 message(s) lost: c'], completedTwice: [] });
  });

  it('fails the checks when a message completed twice or reached the vendor twice', () => {
    const tally = new Tally();
    tally.completed('a');
    tally.completed('a');
    tally.vendorAnswered(201, 'a');
    tally.vendorAnswered(201, 'a');
    const report = buildReport({ ids: ['a'], tally, makespanSeconds: 1, dynamodb: noDynamo, run });

    expect(report.checks.problems).toEqual(['completed twice: a', 'vendor called successfully twice: a']);
    expect(summaryTable(report)).toContain(
      'result                               FAILED: completed twice: a;',
    );
  });

  it('takes the simulator as a second witness of a message done twice', () => {
    const tally = new Tally();
    tally.completed('a');
    const report = buildReport({
      ids: ['a'],
      tally,
      makespanSeconds: 1,
      dynamodb: noDynamo,
      simulatorSuccesses: { a: 2 },
      run,
    });
    expect(report.vendor.duplicateSuccesses).toEqual(['a']);
    expect(report.checks.problems).toEqual(['vendor called successfully twice: a']);
  });
});

describe('progress', () => {
  it('draws the bar, the counters, the bucket levels and the time left', () => {
    const lines = renderProgress({
      total: 100,
      completed: 40,
      deadLettered: 10,
      requeued: 7,
      inFlight: 5,
      queued: 45,
      delayed: 6,
      refusals: 2,
      vendorCalls: 48,
      buckets: [
        {
          dimension: 'waitwhile#rps',
          limitType: 'requests',
          capacity: 5,
          refillPerSecond: 5,
          tokens: 2.5,
          debt: 0,
          leases: 0,
        },
      ],
      elapsedMs: 20_000,
    });
    expect(lines).toEqual([
      '[███████████▒▒▒··············] 50/100  done 40 · DLQ 10 · requeued 7 · in flight 5 · queued 45 (delayed 6)',
      'vendor calls 48 · refusals 2 · elapsed 00:20 · ETA 00:20',
      'buckets  waitwhile#rps ▮▮▮▮▯▯▯▯ 2.5/5',
    ]);
  });

  it('shows no estimate before the first message finished', () => {
    expect([eta(0, 10, 5_000), eta(10, 10, 5_000), clock(61_400)]).toEqual(['--:--', '00:00', '01:01']);
  });
});

describe('counting the worker and the vendor', () => {
  it('sums Embedded Metric Format values and ignores plain log lines', () => {
    const emf = JSON.stringify({ _aws: { Timestamp: 1 }, Requeues: 1, Penalties: [1, 1], service: 'x' });
    expect(emfMetrics(emf, ['Requeues', 'Penalties', 'InlineWaits'])).toEqual({ Requeues: 1, Penalties: 2 });
    expect(emfMetrics('{"level":"INFO","message":"acquire.granted"}', ['Requeues'])).toEqual({});
  });

  it('reads the producer id from a message body', () => {
    expect([bodyId('{"id":"m-1"}'), bodyId('not json'), bodyId('{"id":3}')]).toEqual([
      'm-1',
      undefined,
      undefined,
    ]);
  });

  it('counts vendor answers by status and successes by idempotency key', async () => {
    const tally = new Tally();
    const statuses = [201, 429];
    const vendor = instrumentedFetch({
      tally,
      idempotencyHeader: 'Idempotency-Key',
      base: async () => new Response('{}', { status: statuses.shift() ?? 500 }),
    });
    await vendor('http://vendor/x', { headers: { 'idempotency-key': 'm-1' } });
    await vendor('http://vendor/x', { headers: new Headers({ 'Idempotency-Key': 'm-2' }) });
    expect([tally.vendorCalls, [...tally.vendorSuccesses], [...tally.refusalsByStatus]]).toEqual([
      2,
      [['m-1', 1]],
      [['429', 1]],
    ]);
  });

  it('answers 500 for an injected server error and abandons the invocation for a kill', async () => {
    const tally = new Tally();
    const faults = ['server-error', 'kill'] as const;
    let killed = 0;
    const vendor = instrumentedFetch({
      tally,
      idempotencyHeader: 'Idempotency-Key',
      fault: () => faults[tally.vendorCalls + killed],
      onKill: () => {
        killed += 1;
      },
      base: async () => new Response('{}', { status: 200 }),
    });
    expect((await vendor('http://vendor/x')).status).toBe(500);
    const never = vendor('http://vendor/x');
    expect(killed).toBe(1);
    expect(await Promise.race([never.then(() => 'answered'), Promise.resolve('still pending')])).toBe(
      'still pending',
    );
    expect([...tally.chaos]).toEqual([
      ['vendor answered 500', 1],
      ['worker died between acquire and release', 1],
    ]);
  });
});
