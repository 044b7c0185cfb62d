import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { warmUpFetch } from '../../lambda/vendor-api/warm-up';

/**
 * The cold-start warm-up readies Node's fetch without sending anything to the vendor (what it
 * saves is measured by `npm run bench -- --pool`, never timed here).
 */
describe('warmUpFetch', () => {
  it('sends no request to the vendor', async () => {
    let requests = 0;
    const vendor = createServer((_request, response) => {
      requests += 1;
      response.end();
    });
    await new Promise<void>((resolve) => vendor.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(vendor.address() as AddressInfo).port}`;
      await warmUpFetch(url);
      expect(requests).toBe(0);
      // The vendor is reachable as usual afterwards, and only the real call counts.
      await (await fetch(`${url}/v1/ping`)).arrayBuffer();
      expect(requests).toBe(1);
    } finally {
      vendor.closeAllConnections();
      vendor.close();
    }
  });

  it('never throws: a host that does not resolve only leaves the first call as it was', async () => {
    await expect(warmUpFetch('https://vendor.invalid')).resolves.toBeUndefined();
  });
});
