import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { BucketDefinitionState } from '../../lambda/sluice/core/model';
import {
  leaseHandOverUpdate,
  leaseReturnUpdate,
  putIfAbsent,
  storedTakeUpdate,
  versionedUpdate,
} from '../../lambda/sluice/store/dynamo-expressions';
import { SWEEP_INDEX } from '../../lambda/sluice/store/table';

/**
 * Every write the SDK sends to a bucket item keeps it in the sweep index: the item's creation
 * carries the index key, and each update sets it to the item's own pk (so an item written
 * before the index joins it on its next write, and the key never changes after).
 */

const PK = 'waitwhile#location-writes#loc-42';
const CONCURRENT: BucketDefinitionState = {
  limitType: 'concurrent',
  capacityMilli: 2_000,
  windowMs: 0,
  costPerCall: 1,
};
const OP = { writer: 'lane-1', seq: 7 };
const LEASE = { costMilli: 1_000, expiresAtMs: 60_000 };

/** The value an update sets the sweep index key to, read from its expression. */
function sweepKeySetBy(update: {
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues: Record<string, AttributeValue>;
}): string | undefined {
  const alias = Object.entries(update.ExpressionAttributeNames).find(
    ([, name]) => name === SWEEP_INDEX.partitionKey,
  )?.[0];
  if (alias === undefined) return undefined;
  const set = new RegExp(`${alias} = (:\\w+)`).exec(update.UpdateExpression.split(' REMOVE ')[0]!);
  return set ? update.ExpressionAttributeValues[set[1]!]?.S : undefined;
}

describe('the sweep index key on every bucket write', () => {
  it('is set to the pk by each update the store sends', () => {
    expect([
      sweepKeySetBy(versionedUpdate({ pk: PK, expectedVersion: 3, op: OP })),
      sweepKeySetBy(versionedUpdate({ pk: PK, expectedVersion: 3, forgetWriters: ['old-lane'] })),
      sweepKeySetBy(
        storedTakeUpdate({
          pk: PK,
          op: OP,
          nowMs: 1_000,
          takes: [
            {
              metric: 'location-writes',
              definition: CONCURRENT,
              costMilli: 1_000,
              guard: { kind: 'leases' },
              lease: { id: 'l-1', state: LEASE },
              countGrant: false,
            },
          ],
        }),
      ),
      sweepKeySetBy(
        leaseHandOverUpdate({
          pk: PK,
          op: OP,
          nowMs: 1_000,
          leases: [
            {
              metric: 'location-writes',
              definition: CONCURRENT,
              fromLeaseId: 'l-1',
              to: { id: 'l-2', state: LEASE },
            },
          ],
        }),
      ),
      sweepKeySetBy(
        leaseReturnUpdate({ pk: PK, metric: 'location-writes', leaseId: 'l-1', costMilli: 1_000 }),
      ),
      sweepKeySetBy(
        leaseReturnUpdate({
          pk: PK,
          metric: 'location-writes',
          leaseId: 'l-1',
          costMilli: 1_000,
          expiredBeforeMs: 2_000,
        }),
      ),
    ]).toEqual([PK, PK, PK, PK, PK, PK]);
  });

  it('is carried by a new item', () => {
    const { Item } = putIfAbsent({ pk: PK, version: 1, buckets: {}, templates: {}, writers: {} });
    expect(Item[SWEEP_INDEX.partitionKey]).toEqual({ S: PK });
  });
});
