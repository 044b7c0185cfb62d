/** The items and definitions every case of the BucketStore contract starts from. */
import { fullBucket } from '../../../lambda/sluice/core/bucket-math';
import type { BucketDefinitionState, BucketItem, BucketState } from '../../../lambda/sluice/core/model';

export const T0 = 1_700_000_000_000;
export const RPM: BucketDefinitionState = {
  limitType: 'requests',
  capacityMilli: 60_000,
  windowMs: 60_000,
  costPerCall: 1,
};
export const SLOTS: BucketDefinitionState = {
  limitType: 'concurrent',
  capacityMilli: 2_000,
  windowMs: 0,
  costPerCall: 1,
};
export const rpm = fullBucket(RPM, T0);
export const slots: BucketState = {
  ...fullBucket(SLOTS, T0),
  tokensMilli: 1_000,
  leases: { 'lease-1': { costMilli: 1_000, expiresAtMs: T0 + 60_000 } },
};
export const vendor = (pk: string, version = 1): BucketItem => ({
  pk,
  version,
  buckets: { rpm, 'location-writes': slots },
  templates: {
    'per.key': { limitType: 'requests', capacityMilli: 1_000, windowMs: 1_000, costPerCall: 1 },
  },
  writers: {},
});
export const OP = { writer: 'client-a.0', seq: T0 };
