import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';
import { describeBucketStoreContract } from './store.contract';

describeBucketStoreContract('MemoryBucketStore', async () => new MemoryBucketStore());
