import { isSluiceInputError } from '../../lambda/sluice/errors';
import { DEFINITIONS } from './fixtures';
import { memoryClient } from './helpers';

describe('acquire refuses programming mistakes with a message naming the dimension, the rule and the value', () => {
  it.each([
    [
      'an unknown dimension',
      'openai#rpd',
      'unknown dimension openai#rpd: no bucket definition openai#rpd in the table (upsert it first)',
    ],
    [
      'an unknown keyed dimension',
      'booking#writes#loc-1',
      'unknown dimension booking#writes#loc-1: no bucket definition booking#writes#* in the table (upsert it first)',
    ],
    [
      'a cost larger than capacity',
      { 'openai#rpm': 61 },
      'cost 61 of openai#rpm exceeds its capacity 60: it could never be granted',
    ],
    ['a negative cost', { 'openai#tpm': -1 }, 'cost of openai#tpm must be a finite number >= 0 (got -1)'],
    ['a NaN cost', { 'openai#tpm': Number.NaN }, 'cost of openai#tpm must be a finite number >= 0 (got NaN)'],
    [
      'an infinite cost',
      { 'openai#tpm': Number.POSITIVE_INFINITY },
      'cost of openai#tpm must be a finite number >= 0 (got Infinity)',
    ],
    [
      'a fractional cost on a requests bucket',
      { 'openai#rpm': 1.5 },
      'cost of openai#rpm must be a whole number for a requests bucket (got 1.5)',
    ],
    [
      'a fractional cost on a concurrent bucket',
      { 'sweeppea#concurrent': 0.5 },
      'cost of sweeppea#concurrent must be a whole number for a concurrent bucket (got 0.5)',
    ],
    [
      'a zero cost on a concurrent bucket (any number of holders would pass)',
      { 'sweeppea#concurrent': 0 },
      'cost of sweeppea#concurrent must be at least 1 for a concurrent bucket (got 0)',
    ],
    ['an empty list', [], 'acquire needs at least one dimension (got an empty list)'],
    ['an empty cost map', {}, 'acquire needs at least one dimension (got {})'],
  ])('refuses %s', async (_name, request, message) => {
    const { client } = memoryClient();
    await client.upsertBuckets(DEFINITIONS);
    const error = await client.acquire(request as never).catch((e: unknown) => e);
    expect(isSluiceInputError(error) && error.message).toBe(message);
  });

  it.each(['openai', 'openai#', '#rpm', 'open ai#rpm', 'openai#rpm#a#b', 'waitwhile#location-writes#*'])(
    'refuses the malformed dimension %j',
    async (dimension) => {
      const { client } = memoryClient();
      await expect(client.acquire(dimension)).rejects.toThrow(
        `dimension ${JSON.stringify(dimension)} is not valid: expected "vendor#metric" or "vendor#metric#key" ` +
          '(vendor and metric of letters, digits, "_", ".", ":", "-"; a key without "#" or spaces; "*" only in definitions)',
      );
    },
  );

  it.each([
    [
      'a capacity of 2^60',
      { capacity: 2 ** 60 },
      'capacity must be a positive integer of at most 1000000000 (got 1152921504606847000)',
    ],
    [
      'a window of ten years',
      { windowSeconds: 3650 * 86_400 },
      'windowSeconds must be a positive number of at most 31622400 for a requests bucket (got 315360000)',
    ],
  ])('refuses a definition with %s, before any number reaches the store', async (_name, change, problem) => {
    const { client, store } = memoryClient();
    const error = await client
      .upsertBuckets([
        { dimension: 'openai#rpm', limitType: 'requests', capacity: 60, windowSeconds: 60, ...change },
      ])
      .catch((e: unknown) => e);
    expect(isSluiceInputError(error) && error.message).toBe(
      `bucket definition openai#rpm is not valid: ${problem}`,
    );
    expect(store.requests.create + store.requests.write).toBe(0);
  });

  it('accepts a fractional token estimate and rounds it up to the milli-token', async () => {
    const { client } = memoryClient();
    await client.upsertBuckets(DEFINITIONS);
    await client.acquire({ 'openai#tpm': 0.0001 });
    expect((await client.snapshot('openai#tpm')).tokens).toBe(9_999.999);
  });
});
