import type { HarnessOptions } from './worker-wiring';

/**
 * The booking vendor with a small circuit, shared by the circuit's tests on memory ports
 * (circuit.unit.test.ts) and on the real servers (worker-stores.test.ts): 3 failures open it,
 * probes every 2 s. No slow start: circuit-recovery.unit.test.ts drives it; here a probe closes
 * the circuit outright (and the real-server runs wait on SQS delays with a clock that only
 * moves when told, where a slow start would never end).
 */
export const circuitVendor: HarnessOptions['vendor'] = {
  name: 'waitwhile',
  allowedPaths: ['/locations'],
  operations: {
    createVisit: {
      method: 'POST',
      path: '/locations/{locationId}/visits',
      dimensions: { 'waitwhile#rps': 1, 'waitwhile#location-writes#{locationId}': 1 },
    },
  },
  policy: {
    maxAttempts: 5,
    maxAgeSeconds: 600,
    requeueJitterSeconds: 0,
    inlineRetryThresholdSeconds: 0.5,
    maxVendorRetries: 0,
  },
  circuit: {
    failureThreshold: 3,
    windowSeconds: 60,
    probeIntervalSeconds: 2,
    maxProbeIntervalSeconds: 4,
    slowStartSeconds: 0,
  },
};

export const circuitBuckets: HarnessOptions['buckets'] = [
  { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 5, windowSeconds: 1 },
  { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 1, windowSeconds: 2 },
];

/** A visit to a location of its own (1 write/s per location never binds). */
export const circuitVisit = (id: string) => ({
  id,
  operation: 'createVisit',
  params: { locationId: `loc-${id}` },
  body: { id },
});
