import {
  type VendorCallResult,
  VendorClient,
  type VendorClientOptions,
  type VendorMeasure,
} from '../../lambda/vendor-api';
import { parseVendorSettings } from '../../lambda/worker-settings';

/** Shared by the vendor client tests: settings for the simulator's waitwhile paths, a client with recorded sleeps. */

export const KEY = 'local-dev-key';

export function settingsFor(baseUrl: string) {
  return parseVendorSettings({
    name: 'waitwhile',
    baseUrl,
    allowedPaths: ['/visits', '/locations'],
    operations: {
      createVisit: {
        method: 'POST',
        path: '/locations/{locationId}/visits',
        dimensions: { 'waitwhile#rps': 1 },
      },
      getLocation: {
        method: 'GET',
        path: '/locations/{locationId}',
        dimensions: { 'waitwhile#rps': 1 },
        idempotent: true,
        cacheSeconds: 30,
      },
    },
    policy: { maxVendorRetries: 2, backoffBaseMs: 200, backoffMaxMs: 5_000 },
  });
}

export function clientFor(baseUrl: string, overrides: Partial<VendorClientOptions> = {}) {
  const sleeps: number[] = [];
  const measures: VendorMeasure[] = [];
  const client = new VendorClient({
    settings: settingsFor(baseUrl),
    apiKey: async () => KEY,
    random: () => 0.5,
    // Backoff is recorded, not slept: the tests need no real sleeps.
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onMeasure: (measure) => measures.push(measure),
    ...overrides,
  });
  return { client, sleeps, measures };
}

export const createVisit = (extra: { idempotencyKey?: string; deadlineMs?: number } = {}) => ({
  operation: 'createVisit',
  method: 'POST',
  path: '/locations/loc-1/visits',
  body: { name: 'Ada' },
  deadlineMs: Date.now() + 10_000,
  ...extra,
});

export const summary = (result: VendorCallResult) => ({
  class: result.class,
  status: result.status,
  attempts: result.attempts,
  outcomeUnknown: result.outcomeUnknown,
  cached: result.cached,
});
