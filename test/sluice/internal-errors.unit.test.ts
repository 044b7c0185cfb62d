/**
 * Failures inside the SDK that are not a caller's input, a store outage or a slot deadline
 * (an unreadable stored item, a broken internal assumption) are still Sluice errors: one
 * family, so a caller's `instanceof SluiceError` covers everything the SDK throws.
 */
import { limitTypeTraits } from '../../lambda/sluice/core/limit-types';
import type { BucketItem } from '../../lambda/sluice/core/model';
import { SluiceError, SluiceInputError } from '../../lambda/sluice/errors';
import { itemFromRecord } from '../../lambda/sluice/store/item-codec';
import { MemoryBucketStore } from '../../lambda/sluice/store/memory-store';

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('errors the SDK raises on its own account', () => {
  it.each([
    ['no partition key', { version: 1 }, 'stored item without a string vendor_dimension'],
    [
      'a version that is not a number',
      { vendor_dimension: 'openai', version: 'two' },
      'has no number version',
    ],
    [
      'an unknown limit type',
      { vendor_dimension: 'openai', version: 1, buckets: { rpm: { limit_type: 'hourly' } } },
      'stored item openai.rpm has an unknown limit_type "hourly"',
    ],
    [
      'a writer without a number',
      { vendor_dimension: 'openai', version: 1, writers: { 'w.0': 'x' } },
      'stored item openai has a writer w.0 without a number',
    ],
  ])('an unreadable stored item (%s) is a SluiceError', (_, record, message) => {
    const error = thrown(() => itemFromRecord(record));
    expect(error).toBeInstanceOf(SluiceError);
    expect((error as Error).message).toContain(message);
  });

  it('an unknown limit type given to the SDK is a SluiceInputError', () => {
    const error = thrown(() => limitTypeTraits('hourly' as never));
    expect(error).toBeInstanceOf(SluiceInputError);
    expect((error as Error).message).toBe(
      'unknown limit type "hourly" (known: requests, tokens, concurrent)',
    );
  });

  it('two writes on one item in one transaction (DynamoDB forbids it) is a SluiceError', async () => {
    const store = new MemoryBucketStore();
    const item: BucketItem = { pk: 'openai', version: 1, buckets: {}, templates: {}, writers: {} };
    await store.create(item);
    const write = { pk: 'openai', expectedVersion: 1 };
    await expect(store.writeAll([write, write])).rejects.toBeInstanceOf(SluiceError);
  });
});
