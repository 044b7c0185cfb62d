import type { BucketStore } from '../../lambda/sluice/store/bucket-store';
import { describeHandOverContract } from './store-contract/hand-overs';
import { describeSliceContract } from './store-contract/slices';
import { describeTakeContract } from './store-contract/takes';
import { describeWriteContract } from './store-contract/writes';

/** One table of cases, run against every BucketStore: the memory store and DynamoDB Local. */
export function describeBucketStoreContract(name: string, makeStore: () => Promise<BucketStore>): void {
  describe(`${name} honours the BucketStore contract`, () => {
    describeWriteContract(makeStore);
    describeTakeContract(makeStore);
    describeHandOverContract(makeStore);
    describeSliceContract(makeStore);
  });
}
