import type { StackConfigInput } from '../../lib/config';

/** A small valid configuration; tests spread their one change over it. */
export function validConfig(overrides: Partial<StackConfigInput> = {}): StackConfigInput {
  return {
    stage: 'dev',
    vendorSecretName: 'sluice/waitwhile/api-key',
    buckets: [
      { dimension: 'waitwhile#rps', limitType: 'requests', capacity: 5, windowSeconds: 1 },
      { dimension: 'waitwhile#location-writes#*', limitType: 'requests', capacity: 1, windowSeconds: 1 },
      { dimension: 'waitwhile#concurrent', limitType: 'concurrent', capacity: 2 },
    ],
    vendor: {
      name: 'waitwhile',
      baseUrl: 'https://api.waitwhile.com/v2',
      operations: {
        createVisit: {
          method: 'POST',
          path: '/locations/{locationId}/visits',
          dimensions: { 'waitwhile#rps': 1, 'waitwhile#location-writes#{locationId}': 1 },
        },
      },
    },
    ...overrides,
  };
}
