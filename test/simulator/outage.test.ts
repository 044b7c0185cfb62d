import { startVendorSimulator, type VendorSimulator } from '../../local/simulator';
import { call } from './helpers';

describe('the simulator on an outage schedule', () => {
  let simulator: VendorSimulator;
  let nowMs = 1_000_000;
  const clock = () => nowMs;

  afterEach(() => simulator.stop());

  it('drops every connection while down, and answers again after', async () => {
    simulator = await startVendorSimulator({
      profile: 'waitwhile',
      clock,
      latencyMs: 0,
      schedule: { down: { fromSeconds: 10, forSeconds: 20 } },
    });
    expect((await call(simulator.url, 'GET', '/locations/a')).status).toBe(200);
    nowMs += 10_000;
    await expect(call(simulator.url, 'GET', '/locations/b')).rejects.toThrow('fetch failed');
    nowMs += 19_999;
    await expect(call(simulator.url, 'GET', '/locations/c')).rejects.toThrow('fetch failed');
    nowMs += 1;
    expect((await call(simulator.url, 'GET', '/locations/d')).status).toBe(200);
    expect(simulator.stats().faults.down).toBe(2);
  });

  it('refuses every key while revoked, and takes the key again after', async () => {
    simulator = await startVendorSimulator({
      profile: 'waitwhile',
      clock,
      latencyMs: 0,
      schedule: { keyRevoked: { fromSeconds: 0, forSeconds: 5 } },
    });
    expect((await call(simulator.url, 'GET', '/locations/a')).status).toBe(401);
    nowMs += 5_000;
    expect((await call(simulator.url, 'GET', '/locations/a')).status).toBe(200);
    simulator.setFaults({ keyRevoked: true });
    expect((await call(simulator.url, 'GET', '/locations/a')).status).toBe(401);
  });
});
