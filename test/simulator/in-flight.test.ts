import { startVendorSimulator, type VendorSimulator } from '../../local/simulator';
import { call } from './helpers';

/** Polls the simulator until `check` holds: waits for a state, never for a moment. */
async function until(simulator: VendorSimulator, check: (inFlight: number) => boolean): Promise<void> {
  while (!check(simulator.stats().inFlight)) await new Promise((resolve) => setImmediate(resolve));
}

describe('calls in flight, as the simulator counts them', () => {
  it('counts every request from arrival until its answer or its closed connection, and keeps the most', async () => {
    // Every request hangs until its client gives up: three are in flight together, for sure.
    const simulator = await startVendorSimulator({
      profile: 'waitwhile',
      latencyMs: 0,
      faults: { hangRate: 1 },
    });
    try {
      const abort = new AbortController();
      const pending = ['a', 'b', 'c'].map((location) =>
        call(simulator.url, 'GET', `/locations/${location}`, { signal: abort.signal }).catch(() => undefined),
      );
      await until(simulator, (inFlight) => inFlight === 3);
      abort.abort();
      await Promise.all(pending);
      await until(simulator, (inFlight) => inFlight === 0);
      simulator.setFaults({});
      await call(simulator.url, 'GET', '/locations/d');
      expect({ inFlight: simulator.stats().inFlight, maxInFlight: simulator.stats().maxInFlight }).toEqual({
        inFlight: 0,
        maxInFlight: 3,
      });
    } finally {
      await simulator.stop();
    }
  });
});
