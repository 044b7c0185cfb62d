import { realDependencies } from '../../local/aws/wiring';
import { parseCliOptions } from '../../local/cli/options';
import { call } from '../simulator/helpers';

/**
 * `npm start -- --vendor-window fixed:N/S` starts the simulator as a fixed-window vendor: the
 * vendor the local stack starts (local/aws/wiring.ts) admits N per window from the first request,
 * refuses the next with Retry-After, and sends the standard RateLimit headers. The window is an
 * hour long, so the test never races its end.
 */
describe('the local stack started with --vendor-window', () => {
  it('runs the simulator as a fixed-window vendor', async () => {
    const vendor = await realDependencies.startVendor(parseCliOptions(['--vendor-window', 'fixed:2/3600']));
    try {
      const read = () => call(vendor.url, 'GET', '/locations/a', { key: vendor.apiKey });
      const answers = [await read(), await read(), await read()];
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 429]);
      expect(answers[0]?.headers.get('ratelimit-policy')).toBe('"2-in-3600sec"; q=2; w=3600');
      expect(answers[1]?.headers.get('ratelimit')).toMatch(/^"2-in-3600sec"; r=0; t=\d+$/);
      expect(Number(answers[2]?.headers.get('retry-after'))).toBeGreaterThan(3_500);
    } finally {
      await vendor.stop();
    }
  });

  it('leaves the simulator without a window when the flag is absent', async () => {
    const vendor = await realDependencies.startVendor(parseCliOptions([]));
    try {
      const answer = await call(vendor.url, 'GET', '/locations/a', { key: vendor.apiKey });
      expect(answer.status).toBe(200);
      expect(answer.headers.get('ratelimit-policy')).toBeNull();
    } finally {
      await vendor.stop();
    }
  });
});
