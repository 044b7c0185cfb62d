import { lookup } from 'node:dns/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Readies Node's own `fetch` before the first vendor call, without sending anything to the
 * vendor. The first `fetch` of a process loads and compiles its HTTP stack (undici, its
 * parser): measured 30–140 ms, against ~5 ms for later calls. A first call that slow reaches the
 * vendor long after its grant, while the calls granted after it arrive on time, so the vendor
 * sees the start burst squeezed into less time than the buckets allowed (docs/deploy.md,
 * "Margin for grant-to-arrival jitter"). One request to a throwaway server on the loopback
 * interface pays that cost at cold start instead; the vendor's host name is resolved too.
 * Never throws: a failed warm-up only leaves the first call as slow as before. Never takes
 * more than `WARM_UP_BOUND_MS` either (a slow resolver must not hold the first acquire back).
 */
export async function warmUpFetch(vendorBaseUrl: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, WARM_UP_BOUND_MS);
    timer.unref();
  });
  try {
    await Promise.race([warmUp(vendorBaseUrl), bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** The longest the first acquire waits for the warm-up. */
export const WARM_UP_BOUND_MS = 1_000;

async function warmUp(vendorBaseUrl: string): Promise<void> {
  const server = createServer((_request, response) => response.end());
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    const { port } = server.address() as AddressInfo;
    const response = await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' });
    await response.arrayBuffer();
    const { hostname } = new URL(vendorBaseUrl);
    await lookup(hostname.replace(/^\[|\]$/g, ''));
  } catch {
    // Best effort: the first vendor call then pays the cost itself.
  } finally {
    server.closeAllConnections();
    server.close();
  }
}
