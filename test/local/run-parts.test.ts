import fc from 'fast-check';
import { failureCause, instrumentedFetch } from '../../local/aws/vendor-fetch';
import { clock, eta, ProgressPrinter, renderProgress } from '../../local/cli/progress';
import { buildReport, type RunEnd } from '../../local/report/report';
import { summaryTable } from '../../local/report/summary';
import { Tally } from '../../local/report/tally';
import { chaosLambdaTimeoutSeconds, chaosPlan, faultSequence } from '../../local/run/chaos';
import { bodyId } from '../../local/run/dlq';
import { emfMetrics } from '../../local/run/log-capture';
import { waitingOnQueue } from '../../local/run/watch';

const noDynamo = { requests: 0, rcu: 0, wcu: 0, byOperation: {}, byPurpose: {} };
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
    tally.grants = 3;
    const report = buildReport({
      ids: ['a', 'b', 'c'],
      tally,
      makespanSeconds: 12.34,
      dynamodb: noDynamo,
      run,
    });

    expect(report.messages).toEqual({
      total: 3,
      completed: 1,
      deadLettered: 1,
      pending: 0,
      lost: 1,
      fromProducers: 0,
    });
    expect(report.byId).toEqual({
      a: { state: 'completed', attempts: 1 },
      b: { state: 'deadLettered', attempts: 2, dlqReason: 'invalid_message' },
      c: { state: 'lost', attempts: 1 },
    });
    expect(report.vendor).toEqual({
      grants: 3,
      calls: 3,
      refusalsByStatus: { '429': 1, 'no-answer': 1 },
      failures: [{ cause: 'no answer', url: '', count: 1 }],
      duplicateSuccesses: [],
    });
    expect(report.makespanSeconds).toBe(12.3);
    expect(report.checks).toEqual({ ok: false, problems: ['1 message(s) lost: c'], completedTwice: [] });
  });

  it('fails the checks when the vendor received more requests than the buckets granted', () => {
    const tally = new Tally();
    tally.completed('a');
    tally.vendorAnswered(500, 'a');
    tally.vendorAnswered(200, 'a');
    tally.grants = 1;
    const report = buildReport({ ids: ['a'], tally, makespanSeconds: 1, dynamodb: noDynamo, run });
    expect(report.checks.problems).toEqual(['1 vendor request(s) without a grant (2 requests, 1 grants)']);
  });

  it('fails the checks when a message completed twice or reached the vendor twice', () => {
    const tally = new Tally();
    tally.completed('a');
    tally.completed('a');
    tally.vendorAnswered(201, 'a');
    tally.vendorAnswered(201, 'a');
    tally.grants = 2;
    const report = buildReport({ ids: ['a'], tally, makespanSeconds: 1, dynamodb: noDynamo, run });

    expect(report.checks.problems).toEqual(['completed twice: a', 'vendor called successfully twice: a']);
    expect(summaryTable(report)).toContain(
      'result                               FAILED: completed twice: a;',
    );
  });

  it('counts every id exactly once, pending only when the run stopped before the queue drained', () => {
    // Each id gets an outcome (0 unfinished, 1 completed, 2 dead-lettered, 3 both); the run ends one of three ways.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 30 }),
        fc.constantFrom('drained', 'interrupted', 'time-limit') as fc.Arbitrary<RunEnd>,
        (outcomes, end) => {
          const tally = new Tally();
          const ids = outcomes.map((_, index) => `m-${index}`);
          outcomes.forEach((outcome, index) => {
            if (outcome & 1) tally.completed(`m-${index}`);
            if (outcome & 2) tally.deadLetter(`m-${index}`, 'invalid_message', undefined);
          });
          const report = buildReport({ ids, tally, makespanSeconds: 1, dynamodb: noDynamo, run, end });
          const { total, completed, deadLettered, pending, lost } = report.messages;
          const unfinished = outcomes.filter((outcome) => outcome === 0).length;
          expect(completed + deadLettered + pending + lost).toBe(total);
          expect(Object.keys(report.byId)).toHaveLength(total);
          expect(completed).toBe(outcomes.filter((outcome) => outcome & 1).length);
          expect([pending, lost]).toEqual(end === 'drained' ? [0, unfinished] : [unfinished, 0]);
          expect(report.checks.ok).toBe(unfinished === 0 && !outcomes.includes(3));
        },
      ),
    );
  });

  it("shows the worker's detail of a dead letter and the messages that came from producers", () => {
    const tally = new Tally();
    tally.completed('p-1');
    tally.deadLetter('a', 'invalid_message', 'operation "x" is not configured (known: createVisit)');
    const report = buildReport({
      ids: ['a', 'p-1'],
      fromProducers: new Set(['p-1']),
      tally,
      makespanSeconds: 1,
      dynamodb: noDynamo,
      run,
    });
    expect(report.byId.a).toEqual({
      state: 'deadLettered',
      attempts: 0,
      dlqReason: 'invalid_message',
      dlqDetail: 'operation "x" is not configured (known: createVisit)',
    });
    expect(report.byId['p-1']).toEqual({ state: 'completed', attempts: 0, fromProducer: true });
    const table = summaryTable(report);
    expect(table).toContain('messages                             2 (1 from producers)');
    expect(table).toContain(
      'dead-lettered                        1 (invalid_message 1, e.g. operation "x" is not configured (known: createVisit))',
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

  it('does not keep a low estimate through a stall: it says how long nothing has finished', () => {
    // 248 of 250 done in 60 s, then nothing for 2 s (within the pace) and for 45 s.
    expect(eta(248, 250, 62_000, 60_000)).toBe('00:00');
    expect(eta(100, 250, 62_000, 60_000)).toBe('01:28');
    expect(eta(248, 250, 105_000, 60_000)).toBe('--:-- (nothing finished for 00:45)');
  });

  it('counts a message in the running invocation as in flight only, never also as queued', () => {
    // 5 in the running invocation, 2 invisible after a failed one, 3 visible, 4 delayed.
    expect(waitingOnQueue({ visible: 3, inFlight: 7, delayed: 4 }, 5)).toBe(9);
    expect(waitingOnQueue({ visible: 0, inFlight: 5, delayed: 0 }, 5)).toBe(0);
  });

  it('names the cause and URL of the latest unanswered call', () => {
    const lines = renderProgress({
      total: 10,
      completed: 0,
      deadLettered: 0,
      requeued: 3,
      inFlight: 1,
      queued: 9,
      delayed: 9,
      refusals: 12,
      vendorCalls: 12,
      vendorFailure: { cause: 'connection refused (ECONNREFUSED)', url: 'http://127.0.0.1:9' },
      buckets: [],
      elapsedMs: 16_000,
    });
    expect(lines[1]).toBe(
      'vendor calls 12 · refusals 12 · elapsed 00:16 · ETA --:-- · no answer: connection refused (ECONNREFUSED) at http://127.0.0.1:9',
    );
  });

  it('keeps each line of a terminal frame within its width, so a log line lands above the frame', () => {
    let written = '';
    const out = { isTTY: true, columns: 60, write: (text: string) => (written += text) };
    const printer = new ProgressPrinter(out, { quiet: false });
    const state = {
      total: 250,
      completed: 120,
      deadLettered: 6,
      requeued: 40,
      inFlight: 5,
      queued: 119,
      delayed: 30,
      refusals: 9,
      vendorCalls: 140,
      buckets: [],
      elapsedMs: 30_000,
    };
    printer.frame(state);
    printer.log('stopping: the running invocation finishes, then the servers stop');
    const [frame, rest] = written.split('\x1b[2A\x1b[0J');
    for (const line of (frame ?? '').split('\n')) expect(line.length).toBeLessThan(60);
    expect(rest).toBe('stopping: the running invocation finishes, then the servers stop\n');
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

  it('names why a call got no answer from the error fetch throws', async () => {
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    const unknownHost = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }),
    });
    expect([
      failureCause(refused),
      failureCause(unknownHost),
      failureCause(new DOMException('aborted', 'AbortError')),
      failureCause(await fetch('http://127.0.0.1:9/').catch((error: unknown) => error)),
    ]).toEqual([
      'connection refused (ECONNREFUSED)',
      'host not found (ENOTFOUND)',
      'no answer before the deadline',
      'port refused by fetch itself (a "bad port" of the Fetch standard)',
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
