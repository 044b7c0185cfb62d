import { MemoryIdempotencyStore } from '../../lambda/idempotency/store';
import { countingOwners, describeIdempotencyContract } from './contract';

describeIdempotencyContract('memory', async () => ({
  store: new MemoryIdempotencyStore(countingOwners()),
  done: async () => {},
}));
