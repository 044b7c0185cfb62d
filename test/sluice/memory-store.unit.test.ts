import { MemoryBucketStore } from '../../lambda/sluice/memory-store';
import { describeBucketStoreContract } from './store.contract';

describeBucketStoreContract('MemoryBucketStore', async () => new MemoryBucketStore());
