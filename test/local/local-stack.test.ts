import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultConfigFile, loadConfigFile, loadMessagesFile } from '../../local/cli/inputs';
import { parseCliOptions } from '../../local/cli/options';
import { prepareRun } from '../../local/run/prepare';
import { runLocalStack } from '../../local/run/run';
import { startVendorSimulator } from '../../local/simulator';

const logFile = join(mkdtempSync(join(tmpdir(), 'sluice-local-')), 'handlers.log');

/** A tiny real run: DynamoDB Local, fauxqs, the simulator and the project's own handlers. */
describe('npm start on a tiny workload', () => {
  it('ends every message completed or dead-lettered with a reason, and reports in the documented shape', async () => {
    const options = parseCliOptions(['--count', '20', '--quiet']);
    const configFile = defaultConfigFile('waitwhile');
    const report = await runLocalStack(prepareRun(options, loadConfigFile(configFile), configFile), {
      logFile,
    });

    expect(Object.keys(report)).toEqual([
      'messages',
      'byId',
      'vendor',
      'requeues',
      'inlineWaits',
      'penalties',
      'makespanSeconds',
      'dynamodb',
      'outcomes',
      'products',
      'run',
      'checks',
      'extra',
    ]);
    expect(report.messages).toEqual({
      total: 20,
      completed: 19,
      deadLettered: 1,
      pending: 0,
      lost: 0,
      fromProducers: 0,
    });
    // The worker's own words for the dead letter reach the report, not only its reason code.
    expect(report.byId['demo-0020']).toEqual({
      state: 'deadLettered',
      attempts: 1,
      dlqReason: 'invalid_message',
      dlqDetail: 'operation "noSuchOperation" is not configured (known: createVisit, getLocation)',
    });
    expect(report.byId['demo-0001']?.state).toBe('completed');
    expect(report.vendor.duplicateSuccesses).toEqual([]);
    expect(report.checks).toEqual({ ok: true, problems: [], completedTwice: [] });
    expect(report.dynamodb.requests).toBeGreaterThan(0);
    expect(report.dynamodb.wcu).toBeGreaterThan(0);
    // Two products take turns; each receives its own outcomes, the invalid message's included.
    expect(report.outcomes).toEqual({
      published: 20,
      received: 20,
      missing: 0,
      claimChecked: 0,
      byProduct: {
        checkout: { completed: 10, deadLettered: 0 },
        support: { completed: 9, deadLettered: 1 },
      },
    });
  });

  it('sends a --messages file to the vendor at --vendor-url with the key from SLUICE_LOCAL_API_KEY, once per id', async () => {
    const vendor = await startVendorSimulator({ profile: 'waitwhile', apiKey: 'sandbox-key-123' });
    process.env.SLUICE_LOCAL_API_KEY = 'sandbox-key-123';
    try {
      const file = join(mkdtempSync(join(tmpdir(), 'sluice-msgs-')), 'messages.jsonl');
      const lines = ['a', 'b', 'c'].map((id, i) =>
        JSON.stringify({
          id: `order-${id}`,
          product: 'checkout',
          operation: 'createVisit',
          params: { locationId: `store-${i}` },
        }),
      );
      writeFileSync(file, `${lines.join('\n')}\n`);
      const options = parseCliOptions(['--messages', file, '--vendor-url', vendor.url, '--quiet']);
      const configFile = defaultConfigFile('waitwhile');
      const messages = loadMessagesFile(file).map((line) => line.message);
      const report = await runLocalStack(
        prepareRun(options, loadConfigFile(configFile), configFile, messages),
        {
          logFile,
        },
      );

      expect(report.messages).toEqual({
        total: 3,
        completed: 3,
        deadLettered: 0,
        pending: 0,
        lost: 0,
        fromProducers: 0,
      });
      expect(report.run.vendorUrl).toBe(vendor.url);
      // The vendor's Idempotency-Key is the message id within its product.
      expect(vendor.stats().byIdempotencyKey).toEqual({
        'checkout#order-a': 1,
        'checkout#order-b': 1,
        'checkout#order-c': 1,
      });
    } finally {
      delete process.env.SLUICE_LOCAL_API_KEY;
      await vendor.stop();
    }
  });
});
