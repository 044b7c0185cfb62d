import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CircuitClient } from '../../lambda/circuit/client';
import { circuitRules } from '../../lambda/circuit/state';
import type { DeadLetteredOutcome } from '../../lambda/producer/outcome';
import { MemoryWorkerHarness } from './memory-harness';

/**
 * A vendor on loopback that answers every call with a 307 to another loopback origin, which
 * records every request it gets. Through the worker on memory ports (the circuit
 * on): the message is dead-lettered vendor_rejected with the Location, the other origin is
 * never hit, and the circuit, one failure from opening, stays closed.
 */

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a vendor that redirects elsewhere, at the worker', () => {
  const elsewhereHits: string[] = [];
  const vendorHits: string[] = [];
  const elsewhere = createServer((req, res) => {
    elsewhereHits.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`);
    res.writeHead(201).end('{}');
  });
  let elsewhereUrl = '';
  const vendor = createServer((req, res) => {
    vendorHits.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(307, { location: `${elsewhereUrl}/steal${req.url}` }).end();
  });
  let harness: MemoryWorkerHarness;

  beforeAll(async () => {
    elsewhereUrl = await listen(elsewhere);
    const vendorUrl = await listen(vendor);
    harness = await MemoryWorkerHarness.start({
      simulator: { profile: 'waitwhile', latencyMs: 1 },
      vendorUrl,
      buckets: [{ dimension: 'waitwhile#rps', limitType: 'requests', capacity: 50, windowSeconds: 1 }],
      vendor: {
        name: 'waitwhile',
        operations: {
          createVisit: {
            method: 'POST',
            path: '/locations/{locationId}/visits',
            dimensions: { 'waitwhile#rps': 1 },
          },
        },
        policy: { maxVendorRetries: 2, requeueJitterSeconds: 0 },
        // One failure would open it: a redirect counted as one (or followed to a failing target) would.
        circuit: {
          failureThreshold: 1,
          windowSeconds: 60,
          probeIntervalSeconds: 30,
          maxProbeIntervalSeconds: 30,
        },
      },
      circuit: true,
      products: ['checkout'],
    });
  });
  afterAll(async () => {
    await harness.stop();
    await new Promise<void>((resolve) => vendor.close(() => resolve()));
    await new Promise<void>((resolve) => elsewhere.close(() => resolve()));
  });

  it('dead-letters the message with the Location, never reaches the other origin, and leaves the circuit closed', async () => {
    await harness.enqueue([
      { id: 'r-1', product: 'checkout', operation: 'createVisit', params: { locationId: 'l-1' }, body: {} },
    ]);
    await harness.runUntilIdle();
    const [outcome] = (await harness.outcomesOf('checkout', 1)) as DeadLetteredOutcome[];
    expect(outcome).toMatchObject({
      id: 'r-1',
      reason: 'vendor_rejected',
      detail: `vendor answered HTTP 307: redirect not followed (Location "${elsewhereUrl}/steal/locations/l-1/visits")`,
    });
    const circuit = await new CircuitClient({
      store: harness.circuitStore,
      vendor: 'waitwhile',
      rules: circuitRules(harness.settings.circuit),
      newId: randomUUID,
      clock: harness.time.clock,
    }).view();
    expect({ vendorHits, elsewhereHits, circuit: circuit.status }).toEqual({
      vendorHits: ['POST /locations/l-1/visits'],
      elsewhereHits: [],
      circuit: 'closed',
    });
  });
});
