import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageBatchCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { MessageAttr } from '../../lambda/contract';
import type { RunDependencies, WireOptions } from '../../local/aws/wiring-types';
import { defaultConfigFile, loadConfigFile } from '../../local/cli/inputs';
import { parseCliOptions } from '../../local/cli/options';
import { summaryTable } from '../../local/report/summary';
import { prepareRun } from '../../local/run/prepare';
import { runLocalStack } from '../../local/run/run';

/**
 * The orchestration (servers, queues, poller, DLQ drain, report) with a stand-in worker, so a
 * wrong count in the run itself cannot hide behind the real worker. The vendor is a stub
 * HTTP server answering 201; the real handlers are exercised by local-stack.test.ts.
 */
let vendor: Server;
let vendorUrl = '';
beforeAll(async () => {
  vendor = createServer((_request, response) => response.writeHead(201).end('{}'));
  await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
  vendorUrl = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => vendor.close(resolve)));

function standIn(options: {
  readonly dropId?: string;
  /** Another vendor than the stub answering 201 (a refusing or unreachable one). */
  readonly vendorUrl?: string;
  /** Leave every message on the queue, as a worker that fails each batch would. */
  readonly failEveryBatch?: boolean;
}): RunDependencies {
  return {
    startVendor: async () => ({ url: options.vendorUrl ?? vendorUrl, apiKey: 'k', stop: async () => {} }),
    wireHandlers: async (wired: WireOptions) => ({
      seedBuckets: async () => {},
      reconcile: async () => 0,
      snapshots: async () => [],
      enqueue: async (messages) => {
        for (let start = 0; start < messages.length; start += 10) {
          await wired.stack.sqs.send(
            new SendMessageBatchCommand({
              QueueUrl: wired.stack.queueUrl,
              Entries: messages
                .slice(start, start + 10)
                .map((m, i) => ({ Id: String(i), MessageBody: JSON.stringify(m) })),
            }),
          );
        }
      },
      handler: async (event) => {
        if (options.failEveryBatch)
          return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
        for (const record of event.Records) {
          const message = JSON.parse(record.body) as { id: string; operation: unknown };
          if (message.id === options.dropId) continue;
          if (typeof message.operation !== 'string' || message.operation === 'noSuchOperation') {
            await wired.stack.sqs.send(
              new SendMessageCommand({
                QueueUrl: wired.stack.dlqUrl,
                MessageBody: record.body,
                MessageAttributes: {
                  [MessageAttr.deadLetterReason]: { DataType: 'String', StringValue: 'invalid_message' },
                },
              }),
            );
            continue;
          }
          // A stand-in for a granted call: the report compares grants with vendor requests.
          wired.tally.grants += 1;
          const answer = await wired
            .fetch(`${wired.vendorUrl}/x`, { method: 'POST', headers: { 'Idempotency-Key': message.id } })
            .catch(() => undefined);
          if (answer?.ok) wired.tally.completed(message.id);
          else
            await wired.stack.sqs.send(
              new SendMessageCommand({
                QueueUrl: wired.stack.dlqUrl,
                MessageBody: record.body,
                MessageAttributes: {
                  [MessageAttr.deadLetterReason]: { DataType: 'String', StringValue: 'vendor_refused' },
                },
              }),
            );
        }
        return { batchItemFailures: [] };
      },
    }),
  };
}

function prepared(count: number, extra: string[] = []) {
  const options = parseCliOptions(['--count', String(count), '--quiet', ...extra]);
  const configFile = defaultConfigFile('waitwhile');
  return prepareRun(options, loadConfigFile(configFile), configFile);
}

const logFile = join(mkdtempSync(join(tmpdir(), 'sluice-run-')), 'handlers.log');

describe('a local run', () => {
  it('accounts for every message: completed, dead-lettered with its reason, none lost', async () => {
    const report = await runLocalStack(prepared(30), { logFile }, standIn({}));

    expect(report.messages).toEqual({
      total: 30,
      completed: 29,
      deadLettered: 1,
      pending: 0,
      lost: 0,
      fromProducers: 0,
    });
    expect(report.byId['demo-0020']).toEqual({
      state: 'deadLettered',
      attempts: 1,
      dlqReason: 'invalid_message',
    });
    expect(report.byId['demo-0001']).toEqual({ state: 'completed', attempts: 1 });
    expect(report.vendor).toEqual({
      calls: 29,
      grants: 29,
      refusalsByStatus: {},
      failures: [],
      duplicateSuccesses: [],
    });
    expect(report.checks).toEqual({ ok: true, problems: [], completedTwice: [] });
    expect(report.extra.invocations).toEqual({ ok: 6 });
    expect(report.dynamodb.requests).toBe(0);
  });

  it('reports a message the worker acknowledged without finishing it as lost', async () => {
    const report = await runLocalStack(prepared(10), { logFile }, standIn({ dropId: 'demo-0003' }));

    expect(report.messages).toEqual({
      total: 10,
      completed: 9,
      deadLettered: 0,
      pending: 0,
      lost: 1,
      fromProducers: 0,
    });
    expect(report.checks.ok).toBe(false);
    expect(report.checks.problems).toEqual(['1 message(s) lost: demo-0003']);
  });

  it('reports messages still on the queue at the time limit as pending, not lost', async () => {
    const report = await runLocalStack(
      prepared(3, ['--max-run-seconds', '1']),
      { logFile },
      standIn({ failEveryBatch: true }),
    );

    expect(report.run.end).toBe('time-limit');
    expect(report.messages).toMatchObject({ total: 3, pending: 3, lost: 0 });
    expect(report.byId['demo-0001']?.state).toBe('pending');
    expect(report.checks.problems).toEqual([
      'stopped at the time limit of 1 s (--max-run-seconds) with 3 message(s) still pending on the queue: demo-0001, demo-0002, demo-0003',
    ]);
    expect(summaryTable(report)).toContain(
      'result                               INCOMPLETE: stopped at the time limit',
    );
  });

  it('fails a run in which every vendor answer is a permanent refusal', async () => {
    const refusing = createServer((_request, response) => response.writeHead(404).end('{}'));
    await new Promise<void>((resolve) => refusing.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(refusing.address() as AddressInfo).port}`;
    try {
      const report = await runLocalStack(prepared(5), { logFile }, standIn({ vendorUrl: url }));

      expect(report.messages).toMatchObject({ total: 5, completed: 0, deadLettered: 5, lost: 0 });
      expect(report.checks.ok).toBe(false);
      expect(report.checks.problems).toEqual([
        "every vendor answer was a permanent refusal (404×5): the vendor refuses these requests; check the vendor URL, the key and the configuration's operations",
      ]);
    } finally {
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('names the cause and the URL of calls that got no answer', async () => {
    // A port that was just listening and is now closed: connection refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));

    const report = await runLocalStack(prepared(3), { logFile }, standIn({ vendorUrl: url }));

    expect(report.vendor.failures).toEqual([{ cause: 'connection refused (ECONNREFUSED)', url, count: 3 }]);
    expect(summaryTable(report)).toContain(
      `no answer                            connection refused (ECONNREFUSED) at ${url} ×3`,
    );
    expect(report.run.handlersLog).toBe(logFile);
  });
});
